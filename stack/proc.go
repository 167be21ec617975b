package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one detached service process, known by its PID file.
type proc struct {
	name    string
	dir     string // working directory; holds the PID file
	logFile string
	// marker is a string of the process's command line that tells it apart
	// from an unrelated process that reused the PID.
	marker string
	ports  []int
	argv   []string
	env    []string
	// uid and gid to run as (-1: the caller's).
	uid, gid int
}

func (p *proc) pidFile() string { return filepath.Join(p.dir, p.name+".pid") }

// running returns the recorded PID and whether that process still runs.
func (p *proc) running() (int, bool) {
	b, err := os.ReadFile(p.pidFile())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), p.marker) {
		return pid, false // gone, a zombie (empty cmdline), or a reused PID
	}
	return pid, true
}

// start launches the process in its own session unless it already runs.
func (p *proc) start(log *slog.Logger) error {
	if pid, ok := p.running(); ok {
		log.Info("already running", "service", p.name, "pid", pid)
		return nil
	}
	for _, port := range p.ports {
		if portOpen(port) {
			return fmt.Errorf("start %s: port %d is taken by a process this stack did not start (stop it, or use another stack)", p.name, port)
		}
	}
	out, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	defer out.Close()
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if p.uid >= 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(p.uid), Gid: uint32(p.gid), Groups: []uint32{}}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	pid := cmd.Process.Pid
	if err := writeFileAtomic(p.pidFile(), []byte(strconv.Itoa(pid)+"\n")); err != nil {
		_ = cmd.Process.Kill()
		return fmt.Errorf("start %s: record pid: %w", p.name, err)
	}
	// Reap the child if it dies while this process lives, so a dead service
	// does not linger as a zombie; the service itself outlives this process.
	go func() { _ = cmd.Wait() }()
	log.Info("started", "service", p.name, "pid", pid, "log", p.logFile)
	return nil
}

// stop sends SIGTERM to the process's session, waits, then SIGKILLs, and
// returns once its ports are free.
func (p *proc) stop(ctx context.Context, log *slog.Logger) error {
	pid, ok := p.running()
	if ok {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		if !p.waitGone(ctx, pid, 45*time.Second) {
			log.Warn("did not stop in time, killing", "service", p.name, "pid", pid)
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			p.waitGone(ctx, pid, 10*time.Second)
		}
		log.Info("stopped", "service", p.name, "pid", pid)
	}
	// A JVM child may hold a port a moment after its parent went.
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	if err := waitPortsFree(ctx, p.ports, 20*time.Second); err != nil {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	if err := os.Remove(p.pidFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	return nil
}

// kill sends SIGKILL to the process's session (a crash, for tests).
func (p *proc) kill(ctx context.Context) error {
	pid, ok := p.running()
	if !ok {
		return fmt.Errorf("kill %s: not running", p.name)
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	p.waitGone(ctx, pid, 10*time.Second)
	return waitPortsFree(ctx, p.ports, 20*time.Second)
}

func (p *proc) waitGone(ctx context.Context, pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, ok := p.running(); !ok && !sessionAlive(pid) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// sessionAlive reports whether any live process belongs to session sid.
func sessionAlive(sid int) bool {
	return len(sessionPIDs(sid)) > 0
}

// sessionPIDs lists the live (non-zombie) processes of session sid.
func sessionPIDs(sid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state ppid pgrp session ...
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 4 || f[0] == "Z" {
			continue
		}
		if sess, _ := strconv.Atoi(f[3]); sess == sid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// rssKiB sums the resident memory of every process in session sid.
func rssKiB(sid int) int64 {
	var total int64
	for _, pid := range sessionPIDs(sid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				f := strings.Fields(line)
				if len(f) >= 2 {
					n, _ := strconv.ParseInt(f[1], 10, 64)
					total += n
				}
			}
		}
	}
	return total
}

func portOpen(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 300*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func waitPortsFree(ctx context.Context, ports []int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, port := range ports {
		for portOpen(port) {
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("port %d still open", port)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
