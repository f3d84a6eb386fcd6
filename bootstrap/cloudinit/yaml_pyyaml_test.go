package cloudinit

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// pyyamlCases are documents for TestParseMatchesPyYAML beyond the files it
// collects: each is read by PyYAML too, and must read the same here.
func pyyamlCases() []string {
	return []string{
		"",
		"# only a comment\n",
		"#cloud-config\n",
		"---\n",
		"--- # comment\nmounts: []\n",
		"...\n",
		"a: 1\n...\n# trailing comment\n",
		"\ufeffmounts: [[ephemeral0, null]]\n",
		"mounts:\r\n  - [ephemeral0, /mnt]\r\nmanage_etc_hosts: yes\r\n",
		"a: b\rc: d\r",
		"a: x\u0085b: y\n",
		// compact and nested lists
		"mounts:\n- [ephemeral0, /mnt, auto, \"defaults,nofail\", \"0\", \"2\"]\n- [swap, none, swap, sw, \"0\", \"0\"]\n",
		"mounts: [[ephemeral0, null]]\n",
		"mounts:\n  - [ ephemeral0 ]\n",
		"mounts:\n- - ephemeral0\n  - /media/ephemeral0\n-   - swap\n    - none\n",
		"cloud_init_modules:\n - migrator\n - [mounts, always]\n - [ 'ssh', once-per-instance ]\n - name: x\n   y: z\n",
		"a:\n  - b:\n    - c\n    - d\n    e: f\n  - g\n",
		"a:\n- b: 1\n  c: 2\n- d: 3\n",
		"- a\n- b\n",
		"a:\n  -\n  - b\n  - \n",
		"a: [\n  b,\n  c ,\n\n d]\n",
		"a: [b, [c, [d, {e: f}]], {g: [h]}]\n",
		"a: [b: c, d, e: [f]]\n",
		"a: {b, c: , d: e,}\n",
		"a: [1,\n2]\nb: {c: d,\ne: f}\n",
		"a: [ ]\nb: { }\nc: []\n",
		"a: {\"b\":c, 'd' :e}\n",
		"a: {b:c}\nd: [e:f]\n",
		`{"mounts": [["ephemeral0", null]], "manage_etc_hosts": "localhost", "n": 1.5, "t": true}`,
		"{a: 1,\n b: [2, 3]}\n",
		// plain scalars
		"a: hello world  \nb: x:y\nc: x #comment\nd: x#y\ne: http://example.com/a?b=c#d\n",
		"a: multi\n  line\n\n  plain\n   text\nb: c\n",
		"a:\n  folded plain\n  continues\n",
		"a: -b\nc: ?d\ne: :f\ng: b :c\nh: ---\ni: ...x\n",
		"a: 'single ''quoted'''\nb: 'line\n  folded\n\n  kept'\n",
		"a: \"esc \\\\ \\\" \\n \\t \\r \\0 \\/ \\x41 \\u00e9 \\U0001F600 \\e \\N \\_ \\L \\P \\a \\b \\v \\f \\ x\"\n",
		"a: \"fold\n  ed\n\n   x \\\n   y\"\n",
		"a: \"tab\tinside\"\nb: 'tab\tinside'\n",
		"a: \"x\nb: y\"\n",
		"\"quoted key\": 1\n'single key': 2\n? not refused here\n",
		// block scalars
		"write_files:\n- path: /etc/x\n  content: |\n    mounts: []\n    - x\n    key: value\n        deeper: yes\n\n    # not a comment\n  owner: root\n- content: >\n   runcmd:\n     - a\n   b\nmounts: [[ephemeral0, null]]\n",
		"a: |\n  keep\n   indent\n\n  end\nb: >\n  folded\n  text\n\n  para\n   more\n  back\nc: |-\n  strip\n\nd: |+\n  keep\n\n\ne: >-\n  x\n",
		"a: |2\n   one more\n  two\nb: |-1\n x\nc: >+2\n   y\n",
		"a: |\n\n\n  late start\nb: |\n   \n  x\n",
		"a: | # comment\n  text\nb: >\n\ttab\n",
		"a: |\n  x\n# comment at the top\n  # indented comment\nb: 1\n",
		"- |\n  in a list\n- >\n  folded\n  in a list\n",
		"a: |\nb: >-\n",
		// scalar types
		"n: [~, null, Null, NULL, '', \"null\", nul]\n",
		"b: [yes, Yes, YES, no, No, NO, true, True, TRUE, false, False, FALSE, on, On, ON, off, Off, OFF, y, n, yES, tRUE]\n",
		"i: [0, 12, -3, +4, 1_000, 0b1010, -0b1, 0x1F, 0xff_ff, 0755, 0_7, 09, 08.5, 1:20, 1:60, -1:30:00, 0o7, 00, 0_]\n",
		"f: [1.5, -1.5, +.5, .5, -.5, 1., 1.e+3, 1.0e5, 1.0e-5, 1e5, 6.8523015e+5, 685.230_15e+03, 190:20:30.15, .inf, -.Inf, +.INF, .nan, .NaN, -.nan, 1_2.3_4]\n",
		"big: [99999999999999999999, -9223372036854775808, 9223372036854775807, 0x7fffffffffffffff1]\n",
		"t: [2001-12-14, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10 -5, 2002-12-14]\n",
		"s: [~x, nulls, 1.2.3, 0x, 0b, 0b2, 1__, -, +, ., '1']\n",
		// keys
		// (not 1 and true: Python's dict takes them for the same key)
		"2: int\n1.5: float\ntrue: bool\n~: null\n0x10: hex\n1e3: str\n1.0e+20: big\n0.00001: small\n",
		"yes: a\nno: b\non: c\n",
		"dup: 1\ndup: 2\n",
		"=: equals key\n",
		"a b: spaced key\n'c': d\n\"e\" : f\n",
		"  indented: top\n  level: map\n",
		// comments and blank lines everywhere
		"# c\n\na: 1 # c\n# c\nb:   # c\n  - c # c\n  # c\n  - d\n\n# c\n",
		"a: [b, # c\n  c] # d\n",
	}
}

// pythonYAML returns a python3 that can import yaml, "" if none.
func pythonYAML() string {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import yaml").Run() == nil {
			return py
		}
	}
	return ""
}

// pyyamlScript reads a JSON list of base64 documents and prints, for
// each, {"ok": value, "kind": its Python type} or {"err": message}. Values JSON cannot hold are
// marked: {"__float__": "inf"}, {"__date__": "2001-12-14"}.
const pyyamlScript = `
import base64, datetime, json, math, sys, yaml

def key(k):
    if isinstance(k, str): return k
    if k is None or isinstance(k, (bool, int, float)): return json.dumps(k)
    return str(k)

def conv(o):
    if isinstance(o, dict): return {key(k): conv(v) for k, v in o.items()}
    if isinstance(o, list): return [conv(v) for v in o]
    if isinstance(o, float) and (math.isinf(o) or math.isnan(o)): return {"__float__": repr(o)}
    if isinstance(o, (datetime.date, datetime.datetime)): return {"__date__": str(o)}
    if isinstance(o, (bytes, set, tuple)): return {"__other__": repr(o)}
    return o

out = []
for doc in json.load(sys.stdin):
    try:
        v = yaml.safe_load(base64.b64decode(doc))
        out.append({"ok": conv(v), "kind": type(v).__name__})
    except Exception as e:
        out.append({"err": type(e).__name__ + ": " + str(e)})
print(json.dumps(out))
`

type pyyamlResult struct {
	OK   any     `json:"ok"`
	Kind string  `json:"kind"`
	Err  *string `json:"err"`
}

// safeLoad runs PyYAML's safe_load on each document, in one process.
func safeLoad(t *testing.T, python string, docs [][]byte) []pyyamlResult {
	t.Helper()
	in := make([]string, len(docs))
	for i, d := range docs {
		in[i] = base64.StdEncoding.EncodeToString(d)
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", pyyamlScript)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", python, err)
	}
	var res []pyyamlResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(docs) {
		t.Fatalf("PyYAML's output: %v (%d results for %d documents)", err, len(res), len(docs))
	}
	return res
}

// pyyamlCorpus collects the documents: the cases above, this package's
// testdata, Debian's cloud-init examples and the host's cloud.cfg.
func pyyamlCorpus(t *testing.T) (names []string, docs [][]byte) {
	for i, c := range pyyamlCases() {
		names = append(names, "case "+strings.TrimSpace(strings.SplitN(c+"\n", "\n", 2)[0])+" #"+strconv.Itoa(i))
		docs = append(docs, []byte(c))
	}
	add := func(root string, skipDir string) {
		filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil // absent on this host
			}
			if e.IsDir() {
				if e.Name() == skipDir {
					return filepath.SkipDir
				}
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(path, ".gz") {
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if b, err = io.ReadAll(zr); err != nil {
					t.Fatalf("%s: %v", path, err)
				}
			}
			names = append(names, path)
			docs = append(docs, b)
			return nil
		})
	}
	add("testdata", "fuzz")
	add("/usr/share/doc/cloud-init/examples", "")
	add("/etc/cloud/cloud.cfg", "")
	add("/etc/cloud/cloud.cfg.d", "")
	return names, docs
}

// jsonish is v as it reads back from JSON: numbers float64, and floats
// JSON has no room for marked as the Python script marks them.
func jsonish(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, x := range v {
			m[k] = jsonish(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = jsonish(x)
		}
		return l
	case int:
		return float64(v)
	case float64:
		switch {
		case math.IsNaN(v):
			return map[string]any{"__float__": "nan"}
		case math.IsInf(v, 1):
			return map[string]any{"__float__": "inf"}
		case math.IsInf(v, -1):
			return map[string]any{"__float__": "-inf"}
		}
	}
	return v
}

// withDates replaces PyYAML's timestamps in theirs by our strings at the
// same place: ec2boot keeps timestamps as text.
func withDates(theirs, ours any) any {
	switch th := theirs.(type) {
	case map[string]any:
		if _, ok := th["__date__"]; ok && len(th) == 1 {
			if s, ok := ours.(string); ok {
				return s
			}
			return th
		}
		om, _ := ours.(map[string]any)
		m := map[string]any{}
		for k, x := range th {
			m[k] = withDates(x, om[k])
		}
		return m
	case []any:
		ol, _ := ours.([]any)
		l := make([]any, len(th))
		for i, x := range th {
			var o any
			if i < len(ol) {
				o = ol[i]
			}
			l[i] = withDates(x, o)
		}
		return l
	}
	return theirs
}

// TestParseMatchesPyYAML reads a corpus with PyYAML's safe_load, the
// reader cloud-init uses, and with Parse: every key Parse returns must
// have PyYAML's value, and when Parse left no entry out it must return
// every key.
func TestParseMatchesPyYAML(t *testing.T) {
	python := pythonYAML()
	if python == "" {
		testenv.Missing(t, "no python3 with the yaml module (PyYAML): apt-get install python3-yaml")
	}
	names, docs := pyyamlCorpus(t)
	results := safeLoad(t, python, docs)
	compared := 0
	for i, res := range results {
		name, doc := names[i], docs[i]
		ours, dropped, err := parseDocument(doc)
		if res.Err != nil {
			if err == nil {
				t.Logf("%s: PyYAML fails (%s); Parse reads %d keys, leaving out %d entries", name, *res.Err, len(ours), len(dropped))
			}
			continue
		}
		theirs, isMap := res.OK.(map[string]any)
		switch {
		case res.OK == nil:
			if err != nil || len(ours) != 0 {
				t.Errorf("%s: PyYAML reads an empty document; Parse = %v, %v", name, ours, err)
			}
		case isMap && res.Kind == "dict":
			if err != nil {
				t.Errorf("%s: PyYAML reads it; Parse fails: %v", name, err)
				continue
			}
			compared++
			for k, v := range ours {
				tv, ok := theirs[k]
				if !ok {
					t.Errorf("%s: Parse has key %q, PyYAML does not", name, k)
					continue
				}
				if diff := cmp.Diff(withDates(tv, v), jsonish(v)); diff != "" {
					t.Errorf("%s: key %q differs (-PyYAML +Parse):\n%s", name, k, diff)
				}
			}
			for _, e := range dropped {
				t.Logf("%s: left out: %v", name, e)
			}
			if len(dropped) == 0 && len(ours) != len(theirs) {
				var missing []string
				for k := range theirs {
					if _, ok := ours[k]; !ok {
						missing = append(missing, k)
					}
				}
				sort.Strings(missing)
				t.Errorf("%s: Parse lacks keys %q without having left anything out", name, missing)
			}
		default:
			if err == nil {
				t.Errorf("%s: PyYAML reads a %s; Parse = %v, want an error", name, res.Kind, ours)
			}
		}
	}
	t.Logf("%d documents, %d mappings compared with %s", len(docs), compared, python)
}
