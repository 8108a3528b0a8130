package sandbox

import (
	"debug/elf"

	"golang.org/x/sys/unix"
)

const (
	filterMachine = elf.EM_X86_64
	filterArch    = unix.AUDIT_ARCH_X86_64
	x32Bit        = 0x40000000 // __X32_SYSCALL_BIT
)
