package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/ddns"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/userdata"
)

// stateStatus collects what the steps remember, for `status`: it reads the
// state directory and the cached configuration, and changes nothing.
func stateStatus(g *Globals) ([]statusSection, error) {
	dir := g.root().Path(state.Dir)
	// The state directory is root's (0700): a user sees the run's report,
	// which is for everyone, and is told why the records are missing.
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrPermission) {
		return []statusSection{{name: "dns", title: "DNS records",
			print: func(w io.Writer) { fmt.Fprintln(w, "not shown: the state directory is readable by root only") }}}, nil
	}
	if err != nil {
		return nil, nil
	}
	f.Close()
	records, err := dnsRecords(g)
	if err != nil {
		return nil, err
	}
	return []statusSection{{
		name: "dns", title: "DNS records", data: records,
		print: func(w io.Writer) { ddns.WriteStatus(w, records) },
	}}, nil
}

// dnsRecords is each DNS record's state as the state directory holds it,
// for `status` and for the run's metrics.
func dnsRecords(g *Globals) ([]ddns.RecordStatus, error) {
	dir := g.root().Path(state.Dir)
	probe, err := state.Open(dir, "", true)
	if err != nil {
		return nil, err
	}
	instanceID := ""
	cached, _, _, found, err := facts.LoadCached(probe)
	if err == nil && found {
		instanceID = cached.InstanceID
	} else {
		cached = nil
	}
	store, err := state.Open(dir, instanceID, true)
	if err != nil {
		return nil, err
	}
	records, err := ddns.Status(store, cachedDNSConfig(g, store, cached), g.clock().Now())
	if err != nil {
		return nil, err
	}
	return records, nil
}

// cachedDNSConfig is the [dns] section the last run used, so that records
// never registered are listed too; nil when it cannot be rebuilt.
func cachedDNSConfig(g *Globals, store *state.Store, f *facts.Facts) *config.DNS {
	raw, _, _, err := userdata.LoadCache(store)
	if err != nil {
		return nil
	}
	ex, err := userdata.Extract(raw)
	if err != nil {
		return nil
	}
	cfg, problems := config.LoadFiles(g.root().Path(g.ConfigPath), g.ConfigPath, config.Source{Name: ex.Source, Data: ex.TOML})
	if problems.Err() != nil {
		return nil
	}
	if cfg.HasNameTemplates() {
		// The names the last run registered are made from its facts.
		if f == nil {
			return nil
		}
		if cfg, problems = cfg.ExpandNames(f.NameData()); problems.Err() != nil {
			return nil
		}
	}
	return &cfg.DNS
}
