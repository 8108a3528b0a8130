//go:build !unix

package jobs

// PeakRSS is not measured on this platform.
func PeakRSS() int64 { return 0 }
