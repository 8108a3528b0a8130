package sandbox

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// The seccomp filter given to bubblewrap (--seccomp) for the fork server and
// every program: it refuses the system calls that widen the kernel's attack
// surface without being of use to a program, and that namespaces do not
// isolate:
//
//   - new user namespaces (clone and unshare with CLONE_NEWUSER; clone3,
//     whose flags a filter cannot read, fails with ENOSYS so that the C
//     library falls back to clone), which in ModePrivileged would otherwise
//     give a program capabilities over namespaces of its own;
//   - keyrings (keyctl, add_key, request_key), which are per user and not
//     per namespace;
//   - io_uring, bpf, userfaultfd, perf_event_open, ptrace and
//     process_vm_readv/writev;
//   - System V IPC and POSIX message queues, whose objects outlive the
//     processes that made them (a warm sandbox's later runs would see them)
//     and whose memory no resource limit bounds;
//   - mounting, module loading, kexec, swap, reboot, acct, syslog, quotactl,
//     setns and file handles, which need capabilities a program has not got
//     anyway.
//
// Any other architecture than the runner's own (a 32-bit system call from a
// 64-bit process, or the x32 ABI) kills the process.

// deniedSyscalls fail with EPERM.
var deniedSyscalls = []uint32{
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
	unix.SYS_BPF, unix.SYS_USERFAULTFD, unix.SYS_PERF_EVENT_OPEN,
	unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV,
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_SETNS,
	unix.SYS_FSOPEN, unix.SYS_FSCONFIG, unix.SYS_FSMOUNT, unix.SYS_FSPICK,
	unix.SYS_MOVE_MOUNT, unix.SYS_OPEN_TREE, unix.SYS_MOUNT_SETATTR,
	unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_NAME_TO_HANDLE_AT,
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD,
	unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_REBOOT, unix.SYS_ACCT,
	unix.SYS_SYSLOG, unix.SYS_QUOTACTL, unix.SYS_VHANGUP,
	unix.SYS_SHMGET, unix.SYS_SHMAT, unix.SYS_SHMDT, unix.SYS_SHMCTL,
	unix.SYS_MSGGET, unix.SYS_MSGSND, unix.SYS_MSGRCV, unix.SYS_MSGCTL,
	unix.SYS_SEMGET, unix.SYS_SEMOP, unix.SYS_SEMCTL, unix.SYS_SEMTIMEDOP,
	unix.SYS_MQ_OPEN, unix.SYS_MQ_UNLINK, unix.SYS_MQ_TIMEDSEND, unix.SYS_MQ_TIMEDRECEIVE,
	unix.SYS_MQ_NOTIFY, unix.SYS_MQ_GETSETATTR,
}

// Classic BPF opcodes.
const (
	bpfLdAbsW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	bpfJsetK  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	bpfRetK   = unix.BPF_RET | unix.BPF_K
)

// Offsets in struct seccomp_data.
const (
	seccompNr   = 0
	seccompArch = 4
	seccompArg0 = 16 // low 32 bits on a little-endian machine
)

// insn is one BPF instruction whose jumps name labels.
type insn struct {
	code   uint16
	k      uint32
	jt, jf string // labels; "" is the next instruction
	label  string // this instruction's label
}

// seccompFilter returns the filter as struct sock_filter[] bytes, or nil on
// an architecture it does not know.
func seccompFilter() []byte {
	if filterArch == 0 {
		return nil
	}
	var p []insn
	p = append(p,
		insn{code: bpfLdAbsW, k: seccompArch},
		insn{code: bpfJeqK, k: filterArch, jf: "kill"},
		insn{code: bpfLdAbsW, k: seccompNr},
	)
	if x32Bit != 0 {
		p = append(p, insn{code: bpfJgeK, k: x32Bit, jt: "kill"})
	}
	for _, nr := range deniedSyscalls {
		p = append(p, insn{code: bpfJeqK, k: nr, jt: "eperm"})
	}
	p = append(p,
		insn{code: bpfJeqK, k: unix.SYS_CLONE3, jt: "enosys"},
		insn{code: bpfJeqK, k: unix.SYS_CLONE, jt: "flags"},
		insn{code: bpfJeqK, k: unix.SYS_UNSHARE, jt: "flags"},
		insn{code: bpfRetK, k: unix.SECCOMP_RET_ALLOW},
		insn{code: bpfLdAbsW, k: seccompArg0, label: "flags"},
		insn{code: bpfJsetK, k: unix.CLONE_NEWUSER, jt: "eperm"},
		insn{code: bpfRetK, k: unix.SECCOMP_RET_ALLOW},
		insn{code: bpfRetK, k: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM), label: "eperm"},
		insn{code: bpfRetK, k: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS), label: "enosys"},
		insn{code: bpfRetK, k: unix.SECCOMP_RET_KILL_PROCESS, label: "kill"},
	)
	at := map[string]int{}
	for i, in := range p {
		if in.label != "" {
			at[in.label] = i
		}
	}
	jump := func(from int, label string) uint8 {
		if label == "" {
			return 0
		}
		return uint8(at[label] - from - 1) // the program is far shorter than 256
	}
	out := make([]byte, 0, 8*len(p))
	for i, in := range p {
		out = binary.LittleEndian.AppendUint16(out, in.code)
		out = append(out, jump(i, in.jt), jump(i, in.jf))
		out = binary.LittleEndian.AppendUint32(out, in.k)
	}
	return out
}
