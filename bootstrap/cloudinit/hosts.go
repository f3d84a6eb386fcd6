package cloudinit

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// What cloud-init's update_etc_hosts module does with /etc/hosts.
const (
	HostsOff       = ""          // leaves it alone
	HostsTemplate  = "template"  // rewrites the whole file from its template
	HostsLocalhost = "localhost" // rewrites the 127.0.1.1 line
)

// ManageEtcHosts returns what cloud-init does with /etc/hosts
// (HostsTemplate, HostsLocalhost or HostsOff), the setting as written and
// the file that set it.
//
// cloud-init 22.4 reads the setting as a string (str() of what PyYAML
// gave) and treats it as true when translate_bool accepts it with the
// extra word "template": "true", "1", "on", "yes" or "template" in any
// case, around any spaces. Otherwise only exactly "localhost" counts.
// Booleans and the strings yaml.v3 gives for YAML 1.1's yes/on/True come
// out the same either way; numbers do not (PyYAML reads 0x1 and 01 as 1,
// but 1.0 as 1.0 and 0o1 as a string), so a plain scalar is read from its
// text by the YAML 1.1 rules (yaml.org/type/int.html), not yaml.v3's value.
func (c *Config) ManageEtcHosts() (mode, written, file string) {
	n, ok := c.nodes["manage_etc_hosts"]
	if !ok || n == nil {
		return HostsOff, "", ""
	}
	file = c.from["manage_etc_hosts"]
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		return HostsOff, "", file // str() of a list or dict is none of the words
	}
	written = n.Value
	quoted := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0
	tagged := n.Style&yaml.TaggedStyle != 0
	switch {
	case !quoted && n.ShortTag() == "!!float":
		return HostsOff, written, file // str() of a float has a point or is inf/nan
	case !quoted && (!tagged || n.ShortTag() == "!!int") && isYAML11One(written):
		return HostsTemplate, written, file
	case isTrueString(written):
		return HostsTemplate, written, file
	case written == "localhost":
		return HostsLocalhost, written, file
	}
	return HostsOff, written, file
}

// isTrueString is cloud-init's is_true on a string, with "template".
func isTrueString(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "on", "yes", "template":
		return true
	}
	return false
}

// isYAML11One reports whether a plain scalar is the integer 1 under YAML
// 1.1's implicit int forms: an optional sign, then binary "0b", hex "0x",
// octal with a leading 0, or decimal, with "_" allowed between digits.
// (The sexagesimal form is never 1.)
func isYAML11One(s string) bool {
	s = strings.TrimPrefix(s, "+")
	base, digits := 10, s
	switch {
	case strings.HasPrefix(s, "0b"):
		base, digits = 2, s[2:]
	case strings.HasPrefix(s, "0x"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	case len(s) > 0 && s[0] == '_':
		return false // a decimal starts with a digit
	}
	digits = strings.ReplaceAll(digits, "_", "")
	if digits == "" {
		return false
	}
	v, err := strconv.ParseUint(digits, base, 64)
	return err == nil && v == 1
}
