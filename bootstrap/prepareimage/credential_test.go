package prepareimage

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// oracleCredentialKey is the pattern hasCredentialKey replaced.
var oracleCredentialKey = regexp.MustCompile(`(?i)(^|[\s{,"]|\\n|\\t)"?(password|passwd|secret|token|api_key|private_key)"?\s*[=:]\s*\\?"[^"\\]`)

var credentialCases = []string{
	"", `password = "x"`, `"toml":"[a]\npassword = \"hunter2\"\n"`, `{"api_key": "abc"}`, `token="t"`,
	`password_file = "/etc/p"`, `password = ""`, `"passwords_rotated": 3`, `{"instance_id":"i-1"}`,
	`PASSWORD = "x"`, `PassWd: "x"`, `SECRET="x"`, `apI_KEY="x"`, `Private_Key = "x"`, `private-key = "x"`,
	"pa\u017f\u017fword = \"x\"", "to\u212aen = \"x\"", "private_\u212aey = \"x\"", "api_\u212aey=\"x\"", "\u017fecret=\"x\"",
	"pa\u017fwd=\"x\"", "to\u212a\u212aen=\"x\"", "pa\u0073sword = \"x\"", "toKen = \"x\"", "to\u212aen",
	"\npassword=\"x\"", "\tpassword=\"x\"", "\rpassword=\"x\"", "\fpassword=\"x\"", "\vpassword=\"x\"", " password=\"x\"",
	`\npassword = "x"`, `\Npassword = "x"`, `\tpassword = "x"`, `\Tpassword = "x"`, `\rpassword = "x"`, `npassword = "x"`,
	`xpassword = "x"`, `_password = "x"`, `-password = "x"`, `.password = "x"`, `[password = "x"`, `:password = "x"`,
	`{password:"x"}`, `,token:"x"`, `"token" : "x"`, `""token": "x"`, `"""token": "x"`, `'token' = "x"`,
	`password"= "x"`, `password""= "x"`, `password:"x"`, `password : \"x`, `password = \"\"`, `password = \\"x"`,
	`password = "`, `password =`, `password`, `password = "\"`, `password = "\\`, "password\v= \"x\"", "password\u00a0= \"x\"",
	`secret = 'x'`, `secret = x`, `secret == "x"`, `secret =: "x"`, `secret:= "x"`, `private_key="`, "password = \"\n\"",
	"password = \"\xff\"", `password = "é"`, "password =\n\t \"x\"", `password = "", token = "x"`, `passwordpassword = "x"`,
	`token = ""` + strings.Repeat(" ", 100) + `,secret="y"`, "é password = \"x\"", "\xffpassword = \"x\"", "\u0085password = \"x\"",
}

func TestHasCredentialKeyMatchesPattern(t *testing.T) {
	type verdict struct {
		In    string
		Match bool
	}
	var got, want []verdict
	matched := 0
	for _, s := range credentialCases {
		got = append(got, verdict{s, hasCredentialKey([]byte(s))})
		want = append(want, verdict{s, oracleCredentialKey.MatchString(s)})
		if want[len(want)-1].Match {
			matched++
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-pattern +hasCredentialKey)\n%s", diff)
	}
	if matched == 0 || matched == len(credentialCases) {
		t.Errorf("the pattern matches %d of %d cases: the table should hold both kinds", matched, len(credentialCases))
	}
}

func FuzzHasCredentialKey(f *testing.F) {
	for _, s := range credentialCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := hasCredentialKey(b), oracleCredentialKey.Match(b); got != want {
			t.Errorf("hasCredentialKey(%q) = %v, the pattern gives %v", b, got, want)
		}
	})
}

func TestHasCredentialKeyDoesNotAllocate(t *testing.T) {
	b := []byte(strings.Repeat(`{"instance_id":"i-1", "password_file": "/p", "token": ""}`+"\n", 100) + `password = "x"`)
	if n := testing.AllocsPerRun(10, func() { hasCredentialKey(b) }); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}

// BenchmarkHasCredentialKey reads a state file of maxScan bytes with no
// credential in it, the common case.
func BenchmarkHasCredentialKey(b *testing.B) {
	line := `{"instance_id":"i-0123456789abcdef0","step":"hosts","password_file":"/p","tokens":3}` + "\n"
	in := []byte(strings.Repeat(line, maxScan/len(line)))
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		hasCredentialKey(in)
	}
}

func BenchmarkCredentialKeyPattern(b *testing.B) {
	line := `{"instance_id":"i-0123456789abcdef0","step":"hosts","password_file":"/p","tokens":3}` + "\n"
	in := []byte(strings.Repeat(line, maxScan/len(line)))
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		oracleCredentialKey.Match(in)
	}
}
