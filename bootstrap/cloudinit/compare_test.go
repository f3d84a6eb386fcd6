package cloudinit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

// cloudInitPython returns the system python3 when cloud-init's modules
// import under it. Without them the comparisons skip, except under CI,
// where they fail (testenv.Missing).
func cloudInitPython(t *testing.T) string {
	t.Helper()
	const python = "/usr/bin/python3" // cloud-init's modules import only under the system Python
	if err := exec.Command(python, "-c", "import cloudinit.util").Run(); err != nil {
		testenv.Missing(t, "cloud-init's Python modules are not installed (%v): apt-get install cloud-init", err)
	}
	return python
}

// runPython runs script with in as JSON on its stdin and decodes its JSON
// output into out.
func runPython(t *testing.T, python, script string, in, out any) {
	t.Helper()
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("cloud-init's code: %v\n%s", err, stderr.Bytes())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("cloud-init's output %q: %v", b, err)
	}
}

// cloudInitView is what cloud-init makes of a configuration, for the keys
// ec2boot reads: the values as JSON, manage_etc_hosts as the mode its
// update_etc_hosts module picks, and the files it failed to load.
type cloudInitView struct {
	Values map[string]any `json:"values"`
	Hosts  string         `json:"hosts"`
	Failed int            `json:"failed"`
}

// The keys compared, and cloud-init's own decision on manage_etc_hosts
// (cc_update_etc_hosts.handle), collected with its warnings.
const viewPython = `
import logging
from cloudinit import util

KEYS = ("mounts", "cloud_init_modules", "cloud_config_modules", "cloud_final_modules")

class Count(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.n = 0
    def emit(self, record):
        if "Failed loading yaml blob" in record.getMessage():
            self.n += 1

count = Count()
logging.getLogger("cloudinit").addHandler(count)
logging.getLogger("cloudinit").setLevel(logging.DEBUG)

def view(cfg):
    mh = util.get_cfg_option_str(cfg, "manage_etc_hosts", False)
    hosts = ""
    if util.translate_bool(mh, addons=["template"]):
        hosts = "template"
    elif mh == "localhost":
        hosts = "localhost"
    return {"values": {k: cfg[k] for k in KEYS if k in cfg}, "hosts": hosts}
`

// testRoots lists the fixtures: every directory under testdata but the
// fuzz corpus, and "" for Debian's cloud.cfg alone.
func testRoots(t *testing.T) []string {
	t.Helper()
	dirs := []string{""}
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "fuzz" {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) < 10 {
		t.Fatalf("only %d fixtures found", len(dirs))
	}
	return dirs
}

// ourView is cloudInitView as this package sees it.
func ourView(c *Config) cloudInitView {
	v := cloudInitView{Values: map[string]any{}, Failed: len(c.Ignored)}
	for _, k := range []string{"mounts", "cloud_init_modules", "cloud_config_modules", "cloud_final_modules"} {
		if x, _, ok := c.Value(k); ok {
			v.Values[k] = jsonish(x)
		}
	}
	v.Hosts, _, _ = c.ManageEtcHosts()
	return v
}

// jsonish is v as it reads back from JSON (numbers become float64).
func jsonish(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return err.Error()
	}
	return out
}

// TestMergeMatchesCloudInit has cloud-init's own code merge the system
// configuration and the instance's cloud-config of every fixture, the way
// its init stage does (read_conf_with_confd, then ConfigMerger with the
// instance's cloud-config.txt on top), and compares the keys this package
// reads, its manage_etc_hosts decision and the number of files it gave up on.
func TestMergeMatchesCloudInit(t *testing.T) {
	python := cloudInitPython(t)
	const script = viewPython + `
import json, sys
from cloudinit import helpers
out = []
for root in json.load(sys.stdin):
    count.n = 0
    base = util.read_conf_with_confd(root + "/etc/cloud/cloud.cfg")
    paths = helpers.Paths({"cloud_dir": root + "/var/lib/cloud"})
    cfg = helpers.ConfigMerger(paths=paths, base_cfg=base, include_vendor=False).cfg
    v = view(cfg)
    v["failed"] = count.n
    out.append(v)
print(json.dumps(out))
`
	dirs := testRoots(t)
	roots := make([]string, len(dirs))
	for i, dir := range dirs {
		roots[i] = string(newRoot(t, dir, true))
	}
	var theirs []cloudInitView
	runPython(t, python, script, roots, &theirs)
	if len(theirs) != len(roots) {
		t.Fatalf("%d results for %d roots", len(theirs), len(roots))
	}
	for i, dir := range dirs {
		t.Run("fixture="+dir, func(t *testing.T) {
			c, err := Load(hostfs.Root(roots[i]))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(theirs[i], ourView(c)); diff != "" {
				t.Errorf("differs from cloud-init's merge (-cloud-init +ours):\n%s", diff)
			}
		})
	}
}

// corpus is documents beyond the fixtures for TestParseMatchesCloudInit:
// YAML 1.1 against 1.2, broken documents, and what yaml.v3 and PyYAML
// accept differently.
var corpus = []string{
	"",
	"# only a comment\n",
	"---\n",
	"--- # comment\nmounts: []\n",
	"a: 1\n...\n# trailing comment\n",
	"\ufeffmounts: [[ephemeral0, null]]\n",
	"mounts:\r\n  - [ephemeral0, /mnt]\r\nmanage_etc_hosts: yes\r\n",
	"mounts:\n- - ephemeral0\n  - /media/ephemeral0\n-   - swap\n    - none\n",
	"cloud_init_modules:\n - migrator\n - [mounts, always]\n - [ 'ssh', once-per-instance ]\n",
	"mounts: [[ephemeral0, ~]]\nmounts: [[ephemeral0, /mnt]]\n",
	"x: &m [[ephemeral0, /data]]\nmounts: *m\n",
	"base: &b {a: 1}\n<<: *b\nmounts: [[ephemeral0]]\n",
	"mounts: [[ephemeral0, null]\n",
	"mounts:\n  - [ephemeral0, null]\n bad: indent\n",
	"- mounts\n",
	"scalar\n",
	"a: 1\n---\nb: 2\n",
	"a: !custom x\nmounts: [[ephemeral0]]\n",
	"a: !!python/object:os.system x\n",
	"a: !!binary aGVsbG8=\nmounts: [[ephemeral0]]\n",
	"? [a]\n: b\n",
	"a: b: c\n",
	"a:\n\t- b\n",
	"a: 'unterminated\n",
	"%YAML 1.1\n---\nmanage_etc_hosts: on\n",
	"%TAG ! tag:example.com,2000:\n---\na: !x y\n",
	"a: *undefined\n",
	"a: [b, c]]\n",
	"manage_etc_hosts: yes\nmounts: [[ephemeral0, /mnt, auto, \"defaults,nofail\", \"0\", \"2\"]]\n",
	"a: !!binary aGVsbG8=?\nmounts: [[ephemeral0]]\n",
	"manage_etc_hosts: 0x1\n",
	"manage_etc_hosts: 1.0\n",
	"manage_etc_hosts: 0o1\n",
	"manage_etc_hosts: 'localhost '\n",
	"manage_etc_hosts: !!str 1\n",
	"manage_etc_hosts: |\n  template\n",
	"manage_etc_hosts: 2001-12-14\n",
	"yes: 1\nmanage_etc_hosts: localhost\n",
}

// TestParseMatchesCloudInit has cloud-init's load_yaml read each document
// of a corpus (the cases above, the fixtures' files and, when installed,
// cloud-init's own examples) and compares whether the file is used at all,
// the keys this package reads, and the manage_etc_hosts decision.
func TestParseMatchesCloudInit(t *testing.T) {
	python := cloudInitPython(t)
	const script = viewPython + `
import base64, json, sys
out = []
for doc in json.load(sys.stdin):
    count.n = 0
    cfg = util.load_yaml(base64.b64decode(doc).decode("utf-8", "replace"), default={})
    v = view(cfg)
    v["failed"] = count.n
    out.append(v)
print(json.dumps(out))
`
	names := make([]string, 0, len(corpus))
	var docs []string
	for i, c := range corpus {
		names = append(names, fmt.Sprintf("corpus#%02d", i))
		docs = append(docs, c)
	}
	for _, dir := range []string{"testdata", "/usr/share/doc/cloud-init/examples"} {
		_ = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || strings.Contains(path, "/fuzz/") || strings.HasSuffix(path, ".gz") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, path)
			docs = append(docs, string(b))
			return nil
		})
	}
	enc := make([]string, len(docs))
	for i, d := range docs {
		enc[i] = base64.StdEncoding.EncodeToString([]byte(d))
	}
	var theirs []cloudInitView
	runPython(t, python, script, enc, &theirs)
	if len(theirs) != len(docs) {
		t.Fatalf("%d results for %d documents", len(theirs), len(docs))
	}
	for i, doc := range docs {
		root := hostfs.Root(t.TempDir())
		if err := os.MkdirAll(root.Path(ConfigDir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(root.Path(MainConfig), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(root)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(theirs[i], ourView(c)); diff != "" {
			t.Errorf("%s %q: differs from cloud-init (-cloud-init +ours):\n%s\nignored: %q", names[i], short(doc), diff, c.Ignored)
		}
	}
	t.Logf("%d documents compared", len(docs))
}

func short(doc string) string {
	if len(doc) > 80 {
		return doc[:80] + "..."
	}
	return doc
}
