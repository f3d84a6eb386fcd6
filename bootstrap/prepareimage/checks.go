package prepareimage

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ec2boot/ec2boot/bootstrap/humanize"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/mountinfo"
	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// What a state file is, by name; anything else is "ec2boot state".
var stateNames = map[string]string{
	"user-data": "cached user-data configuration",
	"facts":     "cached instance facts",
}

// credentialKey matches a key that carries a secret, in TOML (also inside a
// JSON string holding TOML) or JSON. Values are never printed.
var credentialKey = regexp.MustCompile(`(?i)(^|[\s{,"]|\\n|\\t)"?(password|passwd|secret|token|api_key|private_key)"?\s*[=:]\s*\\?"[^"\\]`)

// maxScan bounds how much of one file is searched for credentials.
const maxScan = 1 << 20

// ownData lists everything in ec2boot's state directory: cached user-data,
// facts and each step's state, all of it about the build instance.
func ownData(o Options) ([]Item, error) {
	entries, err := os.ReadDir(o.Root.Path(state.Dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state directory %s: %w", state.Dir, err)
	}
	var items []Item
	for _, e := range entries {
		p := filepath.Join(state.Dir, e.Name())
		what := "ec2boot state"
		if d, ok := stateNames[strings.TrimSuffix(e.Name(), ".json")]; ok {
			what = d
		}
		if e.Type().IsRegular() {
			if id := stateOwner(o.Root.Path(p)); id != "" {
				what += " of instance " + id
			}
			if holdsCredentials(o.Root.Path(p)) {
				what += "; holds credentials"
			}
		}
		items = append(items, Item{Kind: Remove, Path: p, What: what})
	}
	return items, nil
}

// stateOwner returns the instance-id a state file is stamped with, or "".
func stateOwner(path string) string {
	b, err := readHead(path)
	if err != nil {
		return ""
	}
	var env struct {
		InstanceID string `json:"instance_id"`
	}
	if json.Unmarshal(b, &env) != nil {
		return ""
	}
	return env.InstanceID
}

func holdsCredentials(path string) bool {
	b, err := readHead(path)
	return err == nil && credentialKey.Match(b)
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxScan))
}

// cloudInitData reports cloud-init's per-instance data: the build
// instance's raw user-data (which may hold credentials), its metadata and
// its semaphores. A clone would run its per-instance modules again anyway
// (the instance-id differs), so removing it loses nothing.
func cloudInitData(o Options) ([]Item, error) {
	const fix = "cloud-init clean --logs"
	var items []Item
	dir := "/var/lib/cloud/instances"
	entries, err := os.ReadDir(o.Root.Path(dir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cloud-init data %s: %w", dir, err)
	}
	for _, e := range entries {
		items = append(items, Item{Kind: Leak, Path: filepath.Join(dir, e.Name()),
			What: "cloud-init's data for instance " + e.Name() + ": its raw user-data, metadata and per-instance state", Fix: fix})
	}
	// The "instance" link (or, on old versions, a directory) and the logs.
	for _, p := range []string{"/var/lib/cloud/instance", "/var/lib/cloud/data", "/var/log/cloud-init.log", "/var/log/cloud-init-output.log"} {
		fi, err := os.Lstat(o.Root.Lpath(p))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cloud-init data %s: %w", p, err)
		}
		what := "cloud-init's record of the build instance"
		if strings.HasPrefix(p, "/var/log/") {
			what = "cloud-init's log of the build instance's boot (may echo user-data and commands)"
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			what = "cloud-init's link to the build instance's data"
		}
		items = append(items, Item{Kind: Leak, Path: p, What: what, Fix: fix})
	}
	return items, nil
}

// cloudInitFstab reports the fstab lines cloud-init's mounts module wrote
// at the build instance's boot (marked comment=cloudconfig): every clone
// would mount what they name, whatever its own cloud-init now says.
func cloudInitFstab(o Options) ([]Item, error) {
	b, err := readHead(o.Root.Path("/etc/fstab"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("/etc/fstab: %w", err)
	}
	var items []Item
	for n, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 4 || strings.HasPrefix(fields[0], "#") || !strings.Contains(fields[3], "comment=cloudconfig") {
			continue
		}
		items = append(items, Item{Kind: Leak, Path: fmt.Sprintf("/etc/fstab:%d", n+1),
			What: fmt.Sprintf("cloud-init's mount of %s on %s from the build instance's boot", fields[0], fields[1]),
			Fix:  "sed -i '/comment=cloudconfig/d' /etc/fstab (cloud-init writes again at first boot what it still wants)"})
	}
	return items, nil
}

// machineID reports a machine-id that every clone would share: journal
// file names, DHCP client identifiers, and ec2boot.timer's per-machine
// offset (FixedRandomDelay) all derive from it.
func machineID(o Options) ([]Item, error) {
	var items []Item
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		fi, err := os.Lstat(o.Root.Lpath(p))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			continue // dbus's is normally a link to /etc/machine-id
		}
		b, err := readHead(o.Root.Path(p))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		id := strings.TrimSpace(string(b))
		if id == "" || id == "uninitialized" {
			continue
		}
		fix := "truncate -s 0 /etc/machine-id (systemd makes a new one at first boot)"
		if p != "/etc/machine-id" {
			fix = "rm " + p + " (dbus falls back to /etc/machine-id)"
		}
		items = append(items, Item{Kind: Leak, Path: p,
			What: "machine-id is set: every instance from the image would share it (journal, DHCP client id, ec2boot.timer's offset)", Fix: fix})
	}
	return items, nil
}

// loginTraces reports login traces that an EBS snapshot copies and that
// the bundling tools' default filter would have skipped.
func loginTraces(o Options) ([]Item, error) {
	homes := []string{"/root"}
	entries, err := os.ReadDir(o.Root.Path("/home"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("/home: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			homes = append(homes, filepath.Join("/home", e.Name()))
		}
	}
	var items []Item
	for _, h := range homes {
		for _, f := range []struct{ name, what string }{
			{".ssh/authorized_keys", "SSH keys allowed to log in (the build's temporary key pair, usually): every instance from the image accepts them"},
			{".bash_history", "shell history of the build"},
		} {
			p := filepath.Join(h, f.name)
			if fi, err := os.Lstat(o.Root.Lpath(p)); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
				items = append(items, Item{Kind: Note, Path: p, What: f.what, Fix: "remove it unless the image should carry it"})
			}
		}
	}
	return items, nil
}

// instanceStore reports data on the instance store: it is not part of an
// EBS snapshot, and bundling tools exclude /mnt. lost+found is ignored.
func instanceStore(o Options) ([]Item, error) {
	if o.MountPoint == "" {
		return nil, nil
	}
	files, bytes, more, err := usage(o.Root.Path(o.MountPoint))
	if err != nil || files == 0 {
		return nil, err
	}
	count := plural(files, "file")
	if more {
		count = "more than " + count
	}
	return []Item{{Kind: Note, Path: o.MountPoint,
		What: fmt.Sprintf("%s (%s) on the instance store will not be in the image", count, humanize.Bytes(bytes))}}, nil
}

// excludedDirs reports directories whose current content the image will
// not hold: ec2boot's relocated directories (bind mounts of the instance
// store: a snapshot holds the original underneath, and bundling tools skip
// mount points) and /media, which the bundling tools exclude.
func excludedDirs(o Options) ([]Item, error) {
	var items []Item
	if o.Root.IsReal() && len(o.Relocated) > 0 {
		table, err := mountinfo.Self()
		if err != nil {
			return nil, err
		}
		for _, p := range relocatedNow(table, o.MountPoint, o.Relocated) {
			items = append(items, Item{Kind: Note, Path: p,
				What: "is mounted from the instance store: the image gets the original directory underneath, not its current content"})
		}
	}
	files, bytes, more, err := usage(o.Root.Path("/media"))
	if err != nil {
		return nil, err
	}
	if files > 0 {
		count := plural(files, "file")
		if more {
			count = "more than " + count
		}
		items = append(items, Item{Kind: Note, Path: "/media",
			What: fmt.Sprintf("%s (%s): bundling tools exclude /media, and removable media are not in a snapshot", count, humanize.Bytes(bytes))})
	}
	return items, nil
}

// relocatedNow returns the paths that are currently bind mounts of the
// filesystem mounted at mountPoint (the instance store). Other mounts at
// those paths, such as a tmpfs on /tmp, are not relocations and do not
// count.
func relocatedNow(table mountinfo.Table, mountPoint string, paths []string) []string {
	store, ok := table.Top(filepath.Clean(mountPoint))
	if !ok {
		return nil
	}
	var out []string
	for _, p := range paths {
		m, ok := table.Top(filepath.Clean(p))
		if ok && m.Major == store.Major && m.Minor == store.Minor {
			out = append(out, p)
		}
	}
	return out
}

// userSecrets reports credentials the configuration carries into the image.
func userSecrets(o Options) ([]Item, error) {
	var items []Item
	for _, key := range o.InlineSecrets {
		items = append(items, Item{Kind: Note, Path: o.ConfigPath,
			What: key + " is an inline password: whoever can launch the image can read it",
			Fix:  "deliver it at boot in a password_file instead, or accept that"})
	}
	files := append([]string(nil), o.SecretFiles...)
	sort.Strings(files)
	for _, f := range files {
		if _, err := os.Stat(o.Root.Path(f)); err == nil {
			items = append(items, Item{Kind: Note, Path: f,
				What: "password file is baked into the image: whoever can launch the image can read it",
				Fix:  "write it at boot (user-data, a secrets manager) instead, or accept that"})
		}
	}
	return items, nil
}

// maxWalk bounds how many entries usage counts, so that a large instance
// store does not make the report slow.
const maxWalk = 100000

// usage counts regular files and their bytes under dir, skipping
// lost+found at the top. A missing dir counts as empty.
func usage(dir string) (files int, bytes int64, more bool, err error) {
	seen := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() && p == filepath.Join(dir, "lost+found") {
			return fs.SkipDir
		}
		seen++
		if seen > maxWalk {
			more = true
			return fs.SkipAll
		}
		if d.Type().IsRegular() {
			files++
			if fi, err := d.Info(); err == nil {
				bytes += fi.Size()
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, false, fmt.Errorf("counting %s: %w", dir, err)
	}
	return files, bytes, more, nil
}
