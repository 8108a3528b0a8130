package analysis

import "slices"

// Score counts agreement of predicted key steps with the true ones.
type Score struct {
	TP, FP, FN int
}

// Add counts one trajectory's prediction against its truth.
func (s *Score) Add(pred, truth []int) {
	for _, p := range pred {
		if slices.Contains(truth, p) {
			s.TP++
		} else {
			s.FP++
		}
	}
	for _, t := range truth {
		if !slices.Contains(pred, t) {
			s.FN++
		}
	}
}

// Precision is TP/(TP+FP) (1 when nothing was predicted).
func (s Score) Precision() float64 {
	if s.TP+s.FP == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FP)
}

// Recall is TP/(TP+FN) (1 when there was nothing to find).
func (s Score) Recall() float64 {
	if s.TP+s.FN == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FN)
}

// F1 is the harmonic mean of precision and recall.
func (s Score) F1() float64 {
	p, r := s.Precision(), s.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}
