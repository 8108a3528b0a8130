// Package sft will hold ATLAS's hindsight-learning datasets: SOAR-style
// sampling (task → successful solution, weight 2.0) and refinement
// (history → key step, weight 1.5; failure → error, weight 1.0) sets, their
// exports, the triggers that decide when a fine-tune is due, and the
// hand-off to a fine-tuning cluster. It has no code yet: the layout keeps
// its place until the issue that builds it.
package sft
