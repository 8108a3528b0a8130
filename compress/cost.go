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

// DAGCost is the cost of one program as a data-flow graph rather than a
// tree: an application (with all its arguments) or lambda that occurs
// again in the same program, under the same binders, is counted once, and
// each further occurrence costs one variable, as a local bound once and
// read where it is used. It is the measure of a program whose repeated
// subterms a programmer would name (the Python form keeps such locals;
// the lambda-calculus form inlines them at every use, which multiplies
// its tree cost), so ratios of DAG costs compare compressions of either
// form on the program as written.
func DAGCost(program string, cm CostModel) (int64, error) {
	s := NewStore(cm.OrDefault())
	r, err := s.parseTerm(program, 0, 0)
	if err != nil {
		return 0, err
	}
	// An open term is the same value only under the same binders: it is
	// keyed by the lambda that binds its innermost free variable (which
	// fixes the enclosing ones), each lambda visited being a new binder.
	type key struct{ n, binder int32 }
	seen := map[key]bool{}
	var binders []int32 // the lambdas enclosing the visit, innermost last
	lams := int32(0)
	var visit func(n int32) int64
	visit = func(n int32) int64 {
		nd := s.nodes[n]
		if nd.kind != KindApp && nd.kind != KindLam {
			return s.cost[n]
		}
		k := key{n, -1}
		if s.free[n] != nil {
			if i := len(binders) - 1 - int(s.minFree(n)); i >= 0 {
				k.binder = binders[i]
			}
		}
		if seen[k] {
			return s.cm.Var
		}
		seen[k] = true
		if nd.kind == KindLam {
			binders = append(binders, lams)
			lams++
			c := s.cm.Lam + visit(nd.a)
			binders = binders[:len(binders)-1]
			return c
		}
		head, args := s.spine(n)
		c := int64(len(args))*s.cm.App + visit(head)
		for _, a := range args {
			c += visit(a)
		}
		return c
	}
	return visit(r), nil
}
