package config

import "path"

// Metrics is where a run leaves its Prometheus metrics for node_exporter's
// textfile collector. Off when TextfileDir is empty.
type Metrics struct {
	// TextfileDir is the directory node_exporter's
	// --collector.textfile.directory reads; the run writes ec2boot.prom in it.
	TextfileDir string `toml:"textfile_dir"`
}

func (s *Metrics) setDefaults() {}

func (s *Metrics) validate(v *validator) {
	if s.TextfileDir != "" && !isAbs(s.TextfileDir) {
		v.errorf("metrics.textfile_dir", "must be an absolute path, got %q", s.TextfileDir)
	}
}

// MetricsFileName is the file a run writes in metrics.textfile_dir; the
// textfile collector reads every *.prom file there.
const MetricsFileName = "ec2boot.prom"

// File is the host path of the metrics file, "" when metrics are off.
func (s Metrics) File() string {
	if s.TextfileDir == "" {
		return ""
	}
	return path.Join(s.TextfileDir, MetricsFileName)
}
