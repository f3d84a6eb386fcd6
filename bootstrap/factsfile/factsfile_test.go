package factsfile_test

import (
	"bytes"
	"context"
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/factsfile"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func sample() *facts.Facts {
	return &facts.Facts{
		InstanceID:       "i-0123456789abcdef0",
		ImageID:          "ami-0abcdef1234567890",
		InstanceType:     "m5d.large",
		Region:           "eu-west-1",
		AvailabilityZone: "eu-west-1b",
		LocalIPv4:        netip.MustParseAddr("10.1.2.3"),
		IPv6:             netip.MustParseAddr("2001:db8:1::7"),
		LocalHostname:    "ip-10-1-2-3.eu-west-1.compute.internal",
		MAC:              "0e:49:61:0f:c3:11",
		BlockDevices:     map[string]string{"ami": "/dev/xvda", "root": "/dev/xvda", "ephemeral0": "/dev/sdb", "ephemeral1": "/dev/sdc"},
		InstanceStores:   []string{"/dev/sdb", "/dev/sdc"},
		GatheredAt:       time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC),
		Source:           facts.SourceIMDS,
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("golden file: %v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// goldenBoth compares both renderings of f with testdata/base.env and
// testdata/base.json.
func goldenBoth(t *testing.T, base string, f *facts.Facts) {
	t.Helper()
	env, err := factsfile.RenderEnv(f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, base+".env", env)
	js, err := factsfile.RenderJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, base+".json", js)
}

func TestRenderGolden(t *testing.T) {
	goldenBoth(t, "facts", sample())

	degraded := sample()
	degraded.Source = facts.SourceCache
	degraded.Degraded = `instance metadata unavailable (GET /latest/meta-data/mac: "connection refused"); using the last known facts`
	env, err := factsfile.RenderEnv(degraded)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "facts-degraded.env", env)
}

// The env file must read back the same in sh (and, with the same rules for
// double quotes, in systemd).
func TestEnvFileReadsBackInShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("no sh: %v", err)
	}
	values := []string{"plain", "", "two words", `quote"inside`, `back\slash`, "$HOME", "${X}", "`id`", "'single'", "ünïcode", `trailing\`, "#not-a-comment", "a=b"}
	var file bytes.Buffer
	for i, v := range values {
		q, err := factsfile.Quote(v)
		if err != nil {
			t.Fatalf("Quote(%q): %v", v, err)
		}
		file.WriteString("V" + string(rune('A'+i)) + "=" + q + "\n")
		// systemd's reading, as its env-file parser does it.
		if got := systemdUnquote(t, q); got != v {
			t.Errorf("systemd would read %s as %q, want %q", q, got, v)
		}
	}
	p := filepath.Join(t.TempDir(), "facts.env")
	if err := os.WriteFile(p, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	script := ". " + p + "\n"
	for i := range values {
		script += `printf '%s\0' "$V` + string(rune('A'+i)) + `"` + "\n"
	}
	cmd := exec.Command(sh, "-c", script)
	cmd.Env = []string{"HOME=/nonexistent", "X=expanded"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if diff := cmp.Diff(values, got); diff != "" {
		t.Errorf("sh read back (-want +got):\n%s", diff)
	}
}

func TestQuoteRefusesControlCharacters(t *testing.T) {
	for _, v := range []string{"a\nb", "a\rb", "\x00", "tab\there", "\x7f"} {
		if _, err := factsfile.Quote(v); err == nil {
			t.Errorf("Quote(%q) succeeded", v)
		}
	}
	f := sample()
	f.LocalHostname = "evil\nEC2BOOT_INSTANCE_ID=i-0"
	if _, err := factsfile.RenderEnv(f); err == nil || !strings.Contains(err.Error(), "EC2BOOT_LOCAL_HOSTNAME") {
		t.Errorf("RenderEnv with a newline in a value: %v, want an error naming the key", err)
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "a", `"\$`, "`", "ü", "a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q, err := factsfile.Quote(v)
		if err != nil {
			return
		}
		if strings.ContainsAny(q, "\n\r") {
			t.Fatalf("Quote(%q) = %q spans lines", v, q)
		}
		if got := systemdUnquote(t, q); got != v && strings.ToValidUTF8(v, "") == v {
			t.Fatalf("Quote(%q) = %q reads back as %q", v, q, got)
		}
	})
}

// systemdUnquote reads one double-quoted value the way systemd's
// parse_env_file does: inside double quotes a backslash escapes \ " ` $
// and is kept literally before anything else.
func systemdUnquote(t testing.TB, q string) string {
	t.Helper()
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		t.Fatalf("%q is not double-quoted", q)
	}
	in := q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c == '"' {
			t.Fatalf("%q: unescaped quote inside", q)
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(in) {
			t.Fatalf("%q: backslash escapes the closing quote", q)
		}
		if !strings.ContainsRune("\"\\`$", rune(in[i])) {
			b.WriteByte('\\')
		}
		b.WriteByte(in[i])
	}
	return b.String()
}

func newEnv(t *testing.T, f *facts.Facts) *step.Env {
	return &step.Env{Root: hostfs.Root(t.TempDir()), Facts: f}
}

func plan(t *testing.T, env *step.Env) (step.Plan, string) {
	t.Helper()
	p, err := factsfile.NewStep().Plan(context.Background(), env)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	var buf bytes.Buffer
	p.Describe(&buf)
	return p, buf.String()
}

func TestStepWritesOnceThenNothing(t *testing.T) {
	env := newEnv(t, sample())
	p, desc := plan(t, env)
	if _, err := os.Stat(env.Root.Path(factsfile.Dir)); !os.IsNotExist(err) {
		t.Fatalf("Plan created %s (stat: %v)", factsfile.Dir, err)
	}
	for _, want := range []string{"--- /dev/null\n+++ /run/ec2boot/facts.env\n", "+EC2BOOT_INSTANCE_ID=\"i-0123456789abcdef0\"\n",
		"--- /dev/null\n+++ /run/ec2boot/facts.json\n"} {
		if !strings.Contains(desc, want) {
			t.Errorf("Describe lacks %q:\n%s", want, desc)
		}
	}
	res, err := p.Apply(context.Background())
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if diff := cmp.Diff([]string{"wrote /run/ec2boot/facts.env", "wrote /run/ec2boot/facts.json"}, res.Changed); diff != "" {
		t.Errorf("Changed (-want +got):\n%s", diff)
	}
	st, err := os.Stat(env.Root.Path(factsfile.EnvPath))
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("facts.env: %v, mode %v", err, st.Mode())
	}
	want, _ := factsfile.RenderEnv(sample())
	if got, _ := os.ReadFile(env.Root.Path(factsfile.EnvPath)); !bytes.Equal(got, want) {
		t.Errorf("facts.env content differs from RenderEnv")
	}

	// Again, an hour later: nothing to say, nothing written.
	later := sample()
	later.GatheredAt = later.GatheredAt.Add(time.Hour)
	env.Facts = later
	p, desc = plan(t, env)
	if desc != "" {
		t.Errorf("second Describe = %q, want nothing", desc)
	}
	res, err = p.Apply(context.Background())
	if err != nil || len(res.Changed) != 0 {
		t.Errorf("second Apply = %v, %v; want no change", res.Changed, err)
	}
	st2, _ := os.Stat(env.Root.Path(factsfile.EnvPath))
	if !os.SameFile(st, st2) {
		t.Errorf("facts.env was replaced although unchanged")
	}
}

func TestStepDiffShowsTheChange(t *testing.T) {
	env := newEnv(t, sample())
	p, _ := plan(t, env)
	if _, err := p.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	moved := sample()
	moved.PublicIPv4 = netip.MustParseAddr("203.0.113.9")
	env.Facts = moved
	_, desc := plan(t, env)
	for _, want := range []string{"-EC2BOOT_PUBLIC_IPV4=\"\"\n", "+EC2BOOT_PUBLIC_IPV4=\"203.0.113.9\"\n",
		"--- /run/ec2boot/facts.json\n", "+  \"public_ipv4\": \"203.0.113.9\",\n"} {
		if !strings.Contains(desc, want) {
			t.Errorf("Describe lacks %q:\n%s", want, desc)
		}
	}
	if strings.Contains(desc, "INSTANCE_ID") {
		t.Errorf("Describe shows unchanged lines far from the change:\n%s", desc)
	}
}

func TestStepRefusesBadFacts(t *testing.T) {
	if _, err := factsfile.NewStep().Plan(context.Background(), &step.Env{Root: hostfs.Root(t.TempDir())}); err == nil {
		t.Errorf("Plan without facts succeeded")
	}
	f := sample()
	f.PublicHostname = "a\x00b"
	if _, err := factsfile.NewStep().Plan(context.Background(), newEnv(t, f)); err == nil ||
		!strings.Contains(err.Error(), "/run/ec2boot/facts.env") {
		t.Errorf("Plan with a NUL in a value: %v", err)
	}
}
