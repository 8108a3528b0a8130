//go:build !amd64 && !arm64

package sandbox

import "debug/elf"

// No filter where the architecture's system call numbers are not known to
// it; see seccomp.go.
const (
	filterMachine = elf.EM_NONE
	filterArch    = 0
	x32Bit        = 0
)
