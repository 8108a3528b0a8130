package compress

// CostModel prices terms. The default is Stitch's (and DreamCoder's): every
// terminal costs 100 and every application or lambda costs 1.
type CostModel struct {
	App  int64 `json:"app"`
	Lam  int64 `json:"lam"`
	Var  int64 `json:"var"`
	IVar int64 `json:"ivar"`
	// PrimDefault is the cost of a primitive not listed in Prim, and of
	// the name of a learned abstraction.
	PrimDefault int64 `json:"prim_default"`
	// Prim overrides the cost of individual primitives.
	Prim map[string]int64 `json:"prim,omitempty"`
}

// DefaultCost returns Stitch's default cost model.
func DefaultCost() CostModel {
	return CostModel{App: 1, Lam: 1, Var: 100, IVar: 100, PrimDefault: 100}
}

// OrDefault is c, or Stitch's default with c's primitive costs when none
// of c's base costs is set.
func (c CostModel) OrDefault() CostModel {
	if c.PrimDefault == 0 && c.App == 0 && c.Lam == 0 && c.Var == 0 && c.IVar == 0 {
		d := DefaultCost()
		d.Prim = c.Prim
		return d
	}
	return c
}

func (c CostModel) primCost(name string) int64 {
	if v, ok := c.Prim[name]; ok {
		return v
	}
	return c.PrimDefault
}

// newPrim is the cost of a freshly learned abstraction's name.
func (c CostModel) newPrim() int64 { return c.PrimDefault }
