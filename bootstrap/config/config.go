// Package config is ec2boot's configuration: the TOML schema, its defaults,
// the merge of the local file under user-data, and validation that reports
// every problem at once with file, line, column and key path.
package config

// Config is the whole configuration. Each section lives in its own file.
type Config struct {
	IMDS      IMDS           `toml:"imds"`
	DNS       DNS            `toml:"dns"`
	Peers     Peers          `toml:"peers"`
	Hosts     Hosts          `toml:"hosts"`
	Templates []Template     `toml:"templates"`
	Vars      map[string]any `toml:"vars"`
	Relocate  Relocate       `toml:"relocate"`
	Disk      DiskGuard      `toml:"disk"`
	Metrics   Metrics        `toml:"metrics"`
}

// section is implemented by every part of Config that has defaults and rules.
type section interface {
	setDefaults()
	validate(v *validator)
}

func (c *Config) sections() []section {
	return []section{&c.IMDS, &c.DNS, &c.Peers, &c.Hosts, templateList{&c.Templates}, &c.Relocate, &c.Disk, &c.Metrics}
}

// Default returns the configuration used when there is none at all.
func Default() *Config {
	c := &Config{}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	for _, s := range c.sections() {
		s.setDefaults()
	}
}

func (c *Config) validate(v *validator) {
	for _, s := range c.sections() {
		s.validate(v)
	}
	c.validatePublish(v)
}
