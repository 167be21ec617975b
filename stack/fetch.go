package stack

import (
	"archive/zip"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// pom is the stack's Maven project; it is written into the cache so the
// binary fetches the same artifacts wherever it runs.
//
//go:embed pom.xml
var pom []byte

// completeMarker is written last into a fetched folder: a fetch interrupted
// half-way is redone instead of trusted.
const completeMarker = ".complete"

// Fetch downloads the Kafka jars and the Elasticsearch zip through Maven
// unless the cache already holds them; a cached stack needs no network.
func (s *Stack) Fetch(ctx context.Context) error {
	if err := os.MkdirAll(s.cacheDir(), 0o755); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if !exists(filepath.Join(s.kafkaLibs(), completeMarker)) {
		if err := s.mvn(ctx, "kafka", s.kafkaLibs()); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(s.kafkaLibs(), completeMarker), nil, 0o644); err != nil {
			return fmt.Errorf("fetch kafka: %w", err)
		}
	}
	if !exists(filepath.Join(s.elasticHome(), completeMarker)) {
		if !exists(s.elasticZip()) {
			if err := s.mvn(ctx, "elasticsearch", s.cacheDir()); err != nil {
				return err
			}
		}
		if err := s.unpackElastic(); err != nil {
			return err
		}
	}
	return nil
}

// mvn copies the dependencies of a pom.xml profile into dir.
func (s *Stack) mvn(ctx context.Context, profile, dir string) error {
	if _, err := exec.LookPath("mvn"); err != nil {
		return errors.New("fetch: Maven (mvn) not found on PATH: the local stack needs Java 17+ and Maven 3.8+")
	}
	pomPath := s.Pom
	if pomPath == "" {
		pomPath = filepath.Join(s.cacheDir(), "pom.xml")
		if err := os.WriteFile(pomPath, pom, 0o644); err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
	}
	start := time.Now()
	s.Log.Info("fetching through Maven (first start only)", "profile", profile, "into", dir)
	cmd := exec.CommandContext(ctx, "mvn", "-B", "-q", "-f", pomPath, "-P"+profile,
		"dependency:copy-dependencies", "-DoutputDirectory="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("fetch %s through Maven: %w\n%s", profile, err, tail(string(out), 2000))
	}
	s.Log.Info("fetched", "profile", profile, "seconds", time.Since(start).Round(100*time.Millisecond).Seconds())
	return nil
}

// unpackElastic unzips the Elasticsearch distribution into its home.
func (s *Stack) unpackElastic() error {
	home := s.elasticHome()
	if err := os.RemoveAll(home); err != nil {
		return fmt.Errorf("unpack elasticsearch: %w", err)
	}
	zr, err := zip.OpenReader(s.elasticZip())
	if err != nil {
		return fmt.Errorf("unpack elasticsearch %s: %w", s.elasticZip(), err)
	}
	defer zr.Close()
	prefix := "elasticsearch-" + ElasticVersion + "/"
	for _, f := range zr.File {
		name := strings.TrimPrefix(f.Name, prefix)
		if name == "" || strings.Contains(name, "..") {
			continue
		}
		if err := extract(f, filepath.Join(home, name)); err != nil {
			return fmt.Errorf("unpack elasticsearch: %w", err)
		}
	}
	return os.WriteFile(filepath.Join(home, completeMarker), nil, 0o644)
}

func extract(f *zip.File, dst string) error {
	if f.FileInfo().IsDir() {
		return os.MkdirAll(dst, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	mode := os.FileMode(0o644)
	if f.Mode()&0o111 != 0 {
		mode = 0o755
	}
	w, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
