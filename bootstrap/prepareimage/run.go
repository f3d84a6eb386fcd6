package prepareimage

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/cloudinit"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/lock"
)

// lockWait is how long --apply waits for a running ec2boot run to finish:
// removing state under a run would let it write it back.
const lockWait = 2 * time.Minute

// Run is the whole command: it loads the local configuration (defaults when
// there is none), inspects, removes ec2boot's own data when apply is set
// (holding the run lock) and prints the report to w. The caller exits 0
// when the report is Clean and 4 otherwise. A configuration that does not
// load is an error (*config.InvalidError inside) and nothing is changed.
func Run(ctx context.Context, root hostfs.Root, configPath string, apply bool, w io.Writer) (*Report, error) {
	// The image's file alone: what user-data completes at launch (an
	// account's username) is not judged here, only what this command acts
	// on.
	cfg, problems := config.Local{Path: root.Path(configPath), Name: configPath}.LoadSections("imds", "relocate")
	if err := problems.Err(); err != nil {
		return nil, fmt.Errorf("prepare-image: %w", err)
	}
	opts := FromConfig(root, configPath, cfg)
	if ci, err := cloudinit.Load(root); err != nil {
		opts.CloudInitMounts = []string{fmt.Sprintf("cannot read cloud-init's configuration: %v", err)}
	} else if cfg.Relocate.IsEnabled() {
		opts.CloudInitMounts = ci.Warnings(ci.MountConflict(cfg.Relocate.MountPoint))
	} else {
		opts.CloudInitMounts = ci.Warnings()
	}
	if apply {
		l, err := lock.AcquireRun(ctx, root, lockWait)
		if err != nil {
			return nil, fmt.Errorf("prepare-image: %w", err)
		}
		defer func() { _ = l.Release() }()
	}
	rep, err := Inspect(opts)
	if err != nil {
		return nil, fmt.Errorf("prepare-image: %w", err)
	}
	if apply {
		err = rep.Apply(root)
	}
	rep.Write(w)
	if err != nil {
		return rep, fmt.Errorf("prepare-image: %w", err)
	}
	return rep, nil
}

// FromConfig fills the options a configuration decides: where the instance
// store is, which directories are relocated, which credentials it carries.
func FromConfig(root hostfs.Root, configPath string, cfg *config.Config) Options {
	o := Options{Root: root, ConfigPath: configPath}
	if cfg.Relocate.IsEnabled() {
		o.MountPoint = cfg.Relocate.MountPoint
		o.Relocated = cfg.Relocate.Paths
	}
	names := make([]string, 0, len(cfg.DNS.Accounts))
	for name := range cfg.DNS.Accounts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := cfg.DNS.Accounts[name]
		if a.Password.IsSet() {
			o.InlineSecrets = append(o.InlineSecrets, "dns.accounts."+name+".password")
		}
		if a.PasswordFile != "" {
			o.SecretFiles = append(o.SecretFiles, a.PasswordFile)
		}
	}
	return o
}
