package detect

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// HostRules are the thresholds of the host rules (processors/hoststage),
// under "hosts" in the rules file. Fractions are 0-1, as in the samples.
type HostRules struct {
	// CPU: normalised CPU busy above Above for For (host_cpu_high).
	CPU Sustained `yaml:"cpu_high" json:"cpu_high"`
	// Memory: memory in use (without page cache) above Above for For
	// (host_memory_high).
	Memory Sustained `yaml:"memory_high" json:"memory_high"`
	// Disk: any filesystem's used fraction above Above (host_disk_full).
	Disk Sustained `yaml:"disk_full" json:"disk_full"`
	// Silent: no sample for Intervals of the host's sampling interval
	// (host_silent).
	Silent Silence `yaml:"silent" json:"silent"`
}

// Sustained is a level held for a while (For 0: at once).
type Sustained struct {
	Disabled bool          `yaml:"disabled" json:"disabled"`
	Above    float64       `yaml:"above" json:"above"`
	For      time.Duration `yaml:"for" json:"for"`
}

// Silence is how many sampling intervals without a sample make a host silent.
type Silence struct {
	Disabled  bool    `yaml:"disabled" json:"disabled"`
	Intervals float64 `yaml:"intervals" json:"intervals"`
}

// DefaultHostRules are the defaults of docs/contracts.md (host rules).
func DefaultHostRules() HostRules {
	return HostRules{
		CPU:    Sustained{Above: 0.90, For: 5 * time.Minute},
		Memory: Sustained{Above: 0.95, For: 5 * time.Minute},
		Disk:   Sustained{Above: 0.90},
		Silent: Silence{Intervals: 3},
	}
}

// validate reports every invalid host setting.
func (h *HostRules) validate() error {
	var errs []error
	for name, s := range map[string]Sustained{"hosts.cpu_high": h.CPU, "hosts.memory_high": h.Memory, "hosts.disk_full": h.Disk} {
		if s.Disabled {
			continue
		}
		if s.Above <= 0 || s.Above >= 1 {
			errs = append(errs, fmt.Errorf("%s.above = %g: must be between 0 and 1", name, s.Above))
		}
		if s.For < 0 || s.For > MaxWindow {
			errs = append(errs, fmt.Errorf("%s.for = %s: must be 0..%s", name, s.For, MaxWindow))
		}
	}
	if s := h.Silent; !s.Disabled && (s.Intervals < 1 || s.Intervals > 1000) {
		errs = append(errs, fmt.Errorf("hosts.silent.intervals = %g: must be 1..1000", s.Intervals))
	}
	return errors.Join(errs...)
}

// registerFlags registers the host settings on fs ("detect.hosts.*").
func (h *HostRules) registerFlags(fs *flag.FlagSet) {
	sus := func(name string, s *Sustained, what string) {
		fs.BoolVar(&s.Disabled, "detect.hosts."+name+".disabled", s.Disabled, "disable host_"+name)
		fs.Float64Var(&s.Above, "detect.hosts."+name+".above", s.Above, "host_"+name+": "+what+" above this fraction")
		fs.DurationVar(&s.For, "detect.hosts."+name+".for", s.For, "host_"+name+": for this long (0: at once)")
	}
	sus("cpu_high", &h.CPU, "normalised CPU busy")
	sus("memory_high", &h.Memory, "memory in use without page cache")
	sus("disk_full", &h.Disk, "a filesystem's used space")
	fs.BoolVar(&h.Silent.Disabled, "detect.hosts.silent.disabled", h.Silent.Disabled, "disable host_silent")
	fs.Float64Var(&h.Silent.Intervals, "detect.hosts.silent.intervals", h.Silent.Intervals, "host_silent: sampling intervals without a sample")
}
