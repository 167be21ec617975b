package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/log-monitor/log_monitor/contracts"
)

// IncidentSettings are the incident settings in effect: the defaults, the
// rules file's "incidents" section over them, the environment over that.
// The processors and the mailer both read them here, so they agree.
func (c Config) IncidentSettings() (contracts.IncidentSettings, error) {
	return incidentSettings(c.RulesFile, os.Getenv)
}

func incidentSettings(rulesFile string, getenv func(string) string) (contracts.IncidentSettings, error) {
	s := contracts.DefaultIncidentSettings()
	if rulesFile != "" {
		data, err := os.ReadFile(rulesFile)
		if err != nil {
			return s, fmt.Errorf("incident settings: %w", err)
		}
		var file struct {
			Incidents *contracts.IncidentSettings `yaml:"incidents"`
		}
		file.Incidents = &s
		if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&file); err != nil && !errors.Is(err, io.EOF) {
			return s, fmt.Errorf("incident settings: %s: %w", rulesFile, err)
		}
	}
	var errs []string
	duration := func(name string, dst *time.Duration) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", name, v, err))
				return
			}
			*dst = d
		}
	}
	duration(EnvIncidentGap, &s.Gap)
	duration(EnvIncidentSettle, &s.Settle)
	duration(EnvIncidentBackfillAfter, &s.BackfillAfter)
	if v := strings.TrimSpace(getenv(EnvIncidentClosingSummary)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q: %v", EnvIncidentClosingSummary, v, err))
		}
		s.ClosingSummary = b
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("incident settings: %w", err)
	}
	return s, nil
}
