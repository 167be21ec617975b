package detect

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/log-monitor/log_monitor/contracts"
)

// RootUser is the account the root_attempts rule watches.
const RootUser = "root"

// Threshold is a rule that fires at >= N events (failed attempts, or distinct
// invalid user names for user_enumeration) within Window.
type Threshold struct {
	Disabled bool          `yaml:"disabled" json:"disabled"`
	N        int           `yaml:"n" json:"n"`
	Window   time.Duration `yaml:"window" json:"window"`
}

// Spray is password_spraying: >= Users distinct users with failures and >=
// Failures failed attempts from one IP within Window.
type Spray struct {
	Disabled bool          `yaml:"disabled" json:"disabled"`
	Users    int           `yaml:"users" json:"users"`
	Failures int           `yaml:"failures" json:"failures"`
	Window   time.Duration `yaml:"window" json:"window"`
}

// Distributed is distributed_attack: one user fails from >= IPs distinct IPs
// with >= Failures failed attempts within Window.
type Distributed struct {
	Disabled bool          `yaml:"disabled" json:"disabled"`
	IPs      int           `yaml:"ips" json:"ips"`
	Failures int           `yaml:"failures" json:"failures"`
	Window   time.Duration `yaml:"window" json:"window"`
	// Lateness replaces Rules.Lateness for the user state (0: use it). A
	// user's events come from every ssh-log partition (each IP's from one), so
	// they interleave more, e.g. while partitions catch up at different speeds.
	Lateness time.Duration `yaml:"lateness" json:"lateness"`
}

// UserLateness is the user state's lateness bound: a failure older than
// the user's latest by more than this is counted but joins no window.
func (r *Rules) UserLateness() time.Duration {
	if r.DistributedAttack.Lateness > 0 {
		return r.DistributedAttack.Lateness
	}
	return r.Lateness
}

// Rules is the detection configuration. Every number is configurable; the zero
// value is not usable, start from DefaultRules (LoadRules does).
type Rules struct {
	BruteForce        Threshold   `yaml:"brute_force" json:"brute_force"`
	SlowBruteForce    Threshold   `yaml:"slow_brute_force" json:"slow_brute_force"`
	UserEnumeration   Threshold   `yaml:"user_enumeration" json:"user_enumeration"`
	PasswordSpraying  Spray       `yaml:"password_spraying" json:"password_spraying"`
	DistributedAttack Distributed `yaml:"distributed_attack" json:"distributed_attack"`
	Compromise        Threshold   `yaml:"compromise_suspected" json:"compromise_suspected"`
	RootAttempts      Threshold   `yaml:"root_attempts" json:"root_attempts"`

	// Cooldown: the same (key, rule) alerts again only after Cooldown of event
	// time since its last alert, unless the episode's count reaches the next
	// escalation step. An episode ends after Cooldown without alert-worthy
	// activity; the next activity starts a new episode (new alert ids).
	Cooldown time.Duration `yaml:"cooldown" json:"cooldown"`
	// EscalationFactor and MaxEscalations: escalation step k (1..MaxEscalations)
	// is reached when the episode's count is >= threshold * EscalationFactor^k.
	EscalationFactor int `yaml:"escalation_factor" json:"escalation_factor"`
	MaxEscalations   int `yaml:"max_escalations" json:"max_escalations"`
	// Lateness is how far (event time) behind the newest event of its key an
	// event may be and still take part in the rules. Older events only count
	// in the state's totals (they still count in the daily metrics elsewhere).
	Lateness time.Duration `yaml:"lateness" json:"lateness"`

	// Hosts are the host rules' thresholds (processors/hoststage); the
	// cooldown above applies to them too.
	Hosts HostRules `yaml:"hosts" json:"hosts"`
	// Incidents are the incident settings (processors/incidentstage and
	// the mailer; config.Config.IncidentSettings applies the environment).
	Incidents contracts.IncidentSettings `yaml:"incidents" json:"incidents"`
}

// DefaultRules returns the defaults of docs/contracts.md (Detections).
func DefaultRules() Rules {
	return Rules{
		BruteForce:        Threshold{N: 10, Window: 5 * time.Minute},
		SlowBruteForce:    Threshold{N: 30, Window: 24 * time.Hour},
		UserEnumeration:   Threshold{N: 5, Window: 10 * time.Minute},
		PasswordSpraying:  Spray{Users: 10, Failures: 30, Window: 5 * time.Minute},
		DistributedAttack: Distributed{IPs: 5, Failures: 20, Window: 10 * time.Minute, Lateness: 30 * time.Minute},
		Compromise:        Threshold{N: 5, Window: 24 * time.Hour},
		RootAttempts:      Threshold{N: 5, Window: 10 * time.Minute},
		Cooldown:          time.Hour,
		EscalationFactor:  2,
		MaxEscalations:    3,
		Lateness:          2 * time.Minute,
		Hosts:             DefaultHostRules(),
		Incidents:         contracts.DefaultIncidentSettings(),
	}
}

var defaultRules = DefaultRules()

// Limits enforced by Validate. They bound the state: a state keeps at most the
// largest count threshold of (time, count) pairs and the largest distinct
// threshold (or 10) of names per list.
const (
	MaxCountThreshold    = 10000
	MaxDistinctThreshold = 1000
	MaxWindow            = 30 * 24 * time.Hour
	MaxLateness          = 24 * time.Hour
	MaxEscalationSteps   = 10
)

func checkCount(errs *[]error, name, field string, n, max int) {
	if n < 1 || n > max {
		*errs = append(*errs, fmt.Errorf("%s.%s = %d: must be 1..%d", name, field, n, max))
	}
}

func checkWindow(errs *[]error, name string, w time.Duration) {
	if w < time.Second || w > MaxWindow {
		*errs = append(*errs, fmt.Errorf("%s.window = %s: must be 1s..%s", name, w, MaxWindow))
	}
}

// Validate reports every invalid setting. Disabled rules are not checked.
func (r *Rules) Validate() error {
	var errs []error
	for _, t := range []struct {
		name string
		th   Threshold
		max  int
	}{
		{contracts.RuleBruteForce, r.BruteForce, MaxCountThreshold},
		{contracts.RuleSlowBruteForce, r.SlowBruteForce, MaxCountThreshold},
		{contracts.RuleUserEnumeration, r.UserEnumeration, MaxDistinctThreshold},
		{contracts.RuleCompromise, r.Compromise, MaxCountThreshold},
		{contracts.RuleRootAttempts, r.RootAttempts, MaxCountThreshold},
	} {
		if t.th.Disabled {
			continue
		}
		checkCount(&errs, t.name, "n", t.th.N, t.max)
		checkWindow(&errs, t.name, t.th.Window)
	}
	if s := r.PasswordSpraying; !s.Disabled {
		checkCount(&errs, contracts.RulePasswordSpraying, "users", s.Users, MaxDistinctThreshold)
		checkCount(&errs, contracts.RulePasswordSpraying, "failures", s.Failures, MaxCountThreshold)
		checkWindow(&errs, contracts.RulePasswordSpraying, s.Window)
	}
	if d := r.DistributedAttack; !d.Disabled {
		checkCount(&errs, contracts.RuleDistributedAttack, "ips", d.IPs, MaxDistinctThreshold)
		checkCount(&errs, contracts.RuleDistributedAttack, "failures", d.Failures, MaxCountThreshold)
		checkWindow(&errs, contracts.RuleDistributedAttack, d.Window)
	}
	if r.Cooldown < 0 || r.Cooldown > MaxWindow {
		errs = append(errs, fmt.Errorf("cooldown = %s: must be 0..%s", r.Cooldown, MaxWindow))
	}
	if r.MaxEscalations < 0 || r.MaxEscalations > MaxEscalationSteps {
		errs = append(errs, fmt.Errorf("max_escalations = %d: must be 0..%d", r.MaxEscalations, MaxEscalationSteps))
	}
	if r.MaxEscalations > 0 && (r.EscalationFactor < 2 || r.EscalationFactor > 1000) {
		errs = append(errs, fmt.Errorf("escalation_factor = %d: must be 2..1000", r.EscalationFactor))
	}
	if r.Lateness < 0 || r.Lateness > MaxLateness {
		errs = append(errs, fmt.Errorf("lateness = %s: must be 0..%s", r.Lateness, MaxLateness))
	}
	if l := r.DistributedAttack.Lateness; l < 0 || l > MaxLateness {
		errs = append(errs, fmt.Errorf("distributed_attack.lateness = %s: must be 0..%s", l, MaxLateness))
	}
	if err := r.Hosts.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := r.Incidents.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Enabled reports whether the named rule is on.
func (r *Rules) Enabled(rule string) bool {
	switch rule {
	case contracts.RuleBruteForce:
		return !r.BruteForce.Disabled
	case contracts.RuleSlowBruteForce:
		return !r.SlowBruteForce.Disabled
	case contracts.RuleUserEnumeration:
		return !r.UserEnumeration.Disabled
	case contracts.RulePasswordSpraying:
		return !r.PasswordSpraying.Disabled
	case contracts.RuleDistributedAttack:
		return !r.DistributedAttack.Disabled
	case contracts.RuleCompromise:
		return !r.Compromise.Disabled
	case contracts.RuleRootAttempts:
		return !r.RootAttempts.Disabled
	}
	return false
}

// ParseRules reads rules from YAML or JSON (JSON is YAML) over DefaultRules:
// keys not given keep their defaults, unknown keys are errors. Durations are
// strings such as "90s", "5m", "24h".
func ParseRules(data []byte) (Rules, error) {
	r := DefaultRules()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil && !errors.Is(err, io.EOF) {
		return Rules{}, fmt.Errorf("detect rules: %w", err)
	}
	if err := r.Validate(); err != nil {
		return Rules{}, fmt.Errorf("detect rules: %w", err)
	}
	return r, nil
}

// LoadRules reads a rules file (YAML or JSON), see ParseRules; no path
// means the default thresholds (DefaultRules).
func LoadRules(path string) (Rules, error) {
	if path == "" {
		return DefaultRules(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Rules{}, fmt.Errorf("detect rules: %w", err)
	}
	r, err := ParseRules(data)
	if err != nil {
		return Rules{}, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// RegisterFlags registers one flag per setting on fs, prefixed "detect.",
// with r's current values as defaults (e.g. -detect.brute_force.n=10,
// -detect.brute_force.window=5m, -detect.cooldown=1h). Call Validate after
// parsing.
func (r *Rules) RegisterFlags(fs *flag.FlagSet) {
	th := func(name string, t *Threshold, what string) {
		fs.BoolVar(&t.Disabled, "detect."+name+".disabled", t.Disabled, "disable the "+name+" rule")
		fs.IntVar(&t.N, "detect."+name+".n", t.N, name+": "+what)
		fs.DurationVar(&t.Window, "detect."+name+".window", t.Window, name+": window")
	}
	th(contracts.RuleBruteForce, &r.BruteForce, "failed attempts from one IP")
	th(contracts.RuleSlowBruteForce, &r.SlowBruteForce, "failed attempts from one IP")
	th(contracts.RuleUserEnumeration, &r.UserEnumeration, "distinct invalid users from one IP")
	th(contracts.RuleCompromise, &r.Compromise, "failed attempts before a success")
	th(contracts.RuleRootAttempts, &r.RootAttempts, "failed attempts on root from one IP")
	s := &r.PasswordSpraying
	fs.BoolVar(&s.Disabled, "detect.password_spraying.disabled", s.Disabled, "disable the password_spraying rule")
	fs.IntVar(&s.Users, "detect.password_spraying.users", s.Users, "password_spraying: distinct users failed from one IP")
	fs.IntVar(&s.Failures, "detect.password_spraying.failures", s.Failures, "password_spraying: failed attempts from one IP")
	fs.DurationVar(&s.Window, "detect.password_spraying.window", s.Window, "password_spraying: window")
	d := &r.DistributedAttack
	fs.BoolVar(&d.Disabled, "detect.distributed_attack.disabled", d.Disabled, "disable the distributed_attack rule")
	fs.IntVar(&d.IPs, "detect.distributed_attack.ips", d.IPs, "distributed_attack: distinct IPs failing on one user")
	fs.IntVar(&d.Failures, "detect.distributed_attack.failures", d.Failures, "distributed_attack: failed attempts on one user")
	fs.DurationVar(&d.Window, "detect.distributed_attack.window", d.Window, "distributed_attack: window")
	fs.DurationVar(&d.Lateness, "detect.distributed_attack.lateness", d.Lateness, "distributed_attack: lateness of the user state (0: detect.lateness)")
	fs.DurationVar(&r.Cooldown, "detect.cooldown", r.Cooldown, "alert again for the same key and rule only after this much event time (or on escalation)")
	fs.IntVar(&r.EscalationFactor, "detect.escalation_factor", r.EscalationFactor, "escalation steps are threshold times factor^k")
	fs.IntVar(&r.MaxEscalations, "detect.max_escalations", r.MaxEscalations, "number of escalation steps (0: none)")
	fs.DurationVar(&r.Lateness, "detect.lateness", r.Lateness, "events up to this far behind their key's newest event still take part in the rules")
	r.Hosts.registerFlags(fs)
}

// on reports whether the rule runs: enabled and with usable numbers (a zero
// Rules runs nothing rather than firing on every event).
func (t Threshold) on() bool { return !t.Disabled && t.N > 0 && t.Window > 0 }

func (s Spray) on() bool { return !s.Disabled && s.Users > 0 && s.Failures > 0 && s.Window > 0 }

func (d Distributed) on() bool { return !d.Disabled && d.IPs > 0 && d.Failures > 0 && d.Window > 0 }

// secs is d in whole seconds, rounded up: with integer-second event times,
// "span < d" is "span < secs(d)".
func secs(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// failRetain is how many failed attempts (with multiplicity) an IP state keeps:
// the largest threshold of the rules that count them.
func (r *Rules) failRetain() int64 {
	var m int
	if r.BruteForce.on() {
		m = max(m, r.BruteForce.N)
	}
	if r.SlowBruteForce.on() {
		m = max(m, r.SlowBruteForce.N)
	}
	if r.PasswordSpraying.on() {
		m = max(m, r.PasswordSpraying.Failures)
	}
	if r.Compromise.on() {
		m = max(m, r.Compromise.N)
	}
	return int64(max(m, 1))
}

// failHorizon is how far back (seconds before the newest event) an IP state's
// failures can still matter: the longest window of those rules plus Lateness.
func (r *Rules) failHorizon() int64 {
	var w time.Duration
	if r.BruteForce.on() {
		w = max(w, r.BruteForce.Window)
	}
	if r.SlowBruteForce.on() {
		w = max(w, r.SlowBruteForce.Window)
	}
	if r.PasswordSpraying.on() {
		w = max(w, r.PasswordSpraying.Window)
	}
	if r.Compromise.on() {
		w = max(w, r.Compromise.Window)
	}
	return secs(w) + secs(r.Lateness)
}
