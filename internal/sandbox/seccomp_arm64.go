package sandbox

import (
	"debug/elf"

	"golang.org/x/sys/unix"
)

const (
	filterMachine = elf.EM_AARCH64
	filterArch    = unix.AUDIT_ARCH_AARCH64
	x32Bit        = 0
)
