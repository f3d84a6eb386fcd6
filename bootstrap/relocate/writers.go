package relocate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/config"
)

// Writer is a process holding a file open for writing under a relocated
// path on the mount that is now hidden: whatever it writes lands on the
// root disk where nobody sees it.
type Writer struct {
	PID  int
	Comm string
	FD   int
	Path string
	// MountID is the mount the open file lives on (fdinfo mnt_id).
	MountID int
}

func (w Writer) String() string { return fmt.Sprintf("%d (%s) %s", w.PID, w.Comm, w.Path) }

// FindWriters scans /proc for file descriptors open for writing whose path
// is dir or under it and whose mount id is not visible (the mount now at dir
// has id visible). visible 0 means any mount counts: for "who writes here
// before we move it". The path string alone cannot tell: it reads the same
// for the hidden and the visible file; fdinfo's mnt_id does.
func FindWriters(procDir, dir string, visible int) ([]Writer, error) {
	return FindWritersIn(procDir, map[string]int{dir: visible})
}

// FindWritersIn is FindWriters for several directories (each with its
// visible mount id) in one pass over /proc: the pass, a readlink of every
// open descriptor of every process, is what costs, so a run with several
// relocated paths scans once, not once per path.
func FindWritersIn(procDir string, dirs map[string]int) ([]Writer, error) {
	return findWriters(procDir, dirs, "")
}

// findWriters is FindWritersIn limited to processes named comm when comm is
// set: their name is one small read, and only their descriptors are read.
func findWriters(procDir string, dirs map[string]int, comm string) ([]Writer, error) {
	procs, err := os.ReadDir(procDir)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	self := os.Getpid()
	ourNS, _ := os.Readlink(filepath.Join(procDir, "self", "ns", "mnt"))
	var out []Writer
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == self {
			continue
		}
		// Paths are only comparable within our own mount namespace.
		if ns, err := os.Readlink(filepath.Join(procDir, p.Name(), "ns", "mnt")); err != nil || ns != ourNS {
			continue
		}
		if comm != "" && readComm(procDir, pid) != comm {
			continue
		}
		fdDir := filepath.Join(procDir, p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue // gone, or a kernel thread
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil {
				continue
			}
			// The deepest directory holding the file decides which mount
			// counts as visible (nested paths each have their own).
			dir, visible := "", 0
			for d, v := range dirs {
				if isUnder(target, d) && len(d) > len(dir) {
					dir, visible = d, v
				}
			}
			if dir == "" {
				continue
			}
			flags, mnt, ok := readFdinfo(filepath.Join(procDir, p.Name(), "fdinfo", fd.Name()))
			if !ok || flags&(syscall.O_WRONLY|syscall.O_RDWR) == 0 {
				continue
			}
			if visible != 0 && mnt == visible {
				continue
			}
			n, _ := strconv.Atoi(fd.Name())
			out = append(out, Writer{PID: pid, Comm: readComm(procDir, pid), FD: n, Path: target, MountID: mnt})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].PID != out[j].PID {
			return out[i].PID < out[j].PID
		}
		return out[i].FD < out[j].FD
	})
	return out, nil
}

// readFdinfo returns the open flags and mnt_id of one descriptor.
func readFdinfo(p string) (flags int64, mnt int, ok bool) {
	f, err := os.Open(p)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	return parseFdinfo(f)
}

// parseFdinfo reads /proc/PID/fdinfo/N: "flags:" is octal, "mnt_id:"
// decimal. Both must be present.
func parseFdinfo(r io.Reader) (flags int64, mnt int, ok bool) {
	var haveFlags, haveMnt bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		v = strings.TrimSpace(v)
		var err error
		switch k {
		case "flags":
			flags, err = strconv.ParseInt(v, 8, 64)
			haveFlags = err == nil && flags >= 0
		case "mnt_id":
			mnt, err = strconv.Atoi(v)
			haveMnt = err == nil && mnt >= 0
		}
	}
	return flags, mnt, haveFlags && haveMnt
}

func readComm(procDir string, pid int) string {
	b, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "comm"))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

func isUnder(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// Built-in ways to make well-known writers reopen their files. journald is
// told to give /var back (--relinquish-var, which closes its files there)
// and then to flush, which opens the journal on the new mount; rsyslogd
// reopens its files on SIGHUP.
const journaldComm = "systemd-journal"

func builtinReopen() []config.Reopen {
	return []config.Reopen{
		{Process: journaldComm, Command: []string{"journalctl", "--relinquish-var"}},
		{Process: "rsyslogd", Signal: "HUP"},
	}
}

// reopenFor returns the action for a process name: the configured one if
// any, else the built-in one.
func reopenFor(cfg []config.Reopen, comm string) (config.Reopen, bool) {
	for _, r := range cfg {
		if r.Process == comm {
			return r, true
		}
	}
	for _, r := range builtinReopen() {
		if r.Process == comm {
			return r, true
		}
	}
	return config.Reopen{}, false
}

var signals = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
}

const commandTimeout = 30 * time.Second

// reopen runs the action for a group of writers of one process name: the
// signal to each PID, or the command once.
func reopen(ctx context.Context, r config.Reopen, pids []int) error {
	if r.Signal != "" {
		sig, ok := signals[strings.TrimPrefix(r.Signal, "SIG")]
		if !ok {
			return fmt.Errorf("unknown signal %q", r.Signal)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, sig); err != nil {
				return fmt.Errorf("signal %s to pid %d: %w", r.Signal, pid, err)
			}
		}
		return nil
	}
	return runCommand(ctx, commandTimeout, r.Command)
}

// runCommand runs argv without a shell in its own process group, killed
// with the group at the timeout.
func runCommand(ctx context.Context, timeout time.Duration, argv []string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
