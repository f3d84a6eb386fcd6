package cmddoc

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"

	"github.com/ec2boot/ec2boot/bootstrap/cli"
)

// Title is a manual page's .TH line. It carries no date: the pages are
// regenerated and compared in tests, and a date would change at every run.
type Title struct {
	Name    string // "ec2boot"
	Section string // "8"
	Source  string // "ec2boot"
	Manual  string // "System Administration"
}

func (t Title) markdown() string {
	line := fmt.Sprintf("%s %s \"\" %q %q", t.Name, t.Section, t.Source, t.Manual)
	return line + "\n" + strings.Repeat("=", len(line)) + "\n\n"
}

// render converts markdown to roff, refusing what go-md2man would pass over
// with a warning (raw HTML), so that nothing silently drops out of a page.
func render(md string) ([]byte, error) {
	if m := regexp.MustCompile(`(?m)^<[a-zA-Z]`).FindString(md); m != "" {
		return nil, fmt.Errorf("markdown holds raw HTML (%q), which a man page cannot show", m)
	}
	return md2man.Render([]byte(md)), nil
}

// ManPage writes the program's page for section t.Section: synopsis and
// description from --help, then every command with its flags and examples,
// the global flags and the exit codes, all from the command table.
func ManPage(t Title, summary string, seeAlso []string) ([]byte, error) {
	desc, syn := overview()
	if desc == "" || len(syn) == 0 {
		return nil, fmt.Errorf("ec2boot --help has no opening paragraph or no Usage: block")
	}
	var md strings.Builder
	md.WriteString(t.markdown())
	fmt.Fprintf(&md, "# NAME\n%s - %s\n\n# SYNOPSIS\n", t.Name, summary)
	for _, l := range syn {
		fmt.Fprintf(&md, "%s  \n", mdEscape(l))
	}
	md.WriteString("\n# DESCRIPTION\n" + mdEscape(desc) + "\n\n")

	md.WriteString("# COMMANDS\n")
	for _, c := range cli.Commands() {
		fmt.Fprintf(&md, "### ec2boot %s\n", mdEscape(c.Synopsis()))
		md.WriteString(mdEscape(c.Help) + "\n\n")
		flagList(&md, c.Flags)
		if len(c.Examples) > 0 {
			md.WriteString("Examples:\n\n")
			for _, e := range c.Examples {
				fmt.Fprintf(&md, "**%s**\n:   %s\n\n", mdEscape(e.Command), mdEscape(e.Does))
			}
		}
	}

	md.WriteString("# GLOBAL OPTIONS\nAccepted by every command, before or after its name.\n\n")
	flagList(&md, cli.GlobalFlags())
	md.WriteString("Before a command only, instead of it:\n\n")
	flagList(&md, cli.TopFlags())

	md.WriteString("# EXIT STATUS\n")
	for _, e := range cli.ExitCodes() {
		fmt.Fprintf(&md, "**%d** (%s)\n:   %s\n\n", e.Code, mdEscape(e.Name), mdEscape(e.Meaning))
	}

	md.WriteString("# FILES\n")
	md.WriteString("*/etc/ec2boot/config.toml*\n:   the local configuration, see **ec2boot.toml**(5)\n\n")
	md.WriteString("*/var/lib/ec2boot*\n:   cached facts, user-data and the state of each step\n\n")
	md.WriteString("*/usr/share/doc/ec2boot*\n:   the full documentation\n\n")

	if len(seeAlso) > 0 {
		md.WriteString("# SEE ALSO\n")
		var refs []string
		for _, s := range seeAlso {
			name, sect, ok := strings.Cut(s, "(")
			if !ok {
				return nil, fmt.Errorf("see-also entry %q is not NAME(SECTION)", s)
			}
			refs = append(refs, "**"+mdEscape(name)+"**("+sect)
		}
		md.WriteString(strings.Join(refs, ", ") + "\n")
	}
	return render(md.String())
}

func flagList(md *strings.Builder, flags []cli.Flag) {
	for _, f := range flags {
		term := strings.Join(names(f), ", ")
		if f.Arg != "" {
			term += " " + f.Arg
		}
		help := f.Help
		if f.Default != "" {
			help += " (default " + f.Default + ")"
		}
		fmt.Fprintf(md, "**%s**\n:   %s\n\n", mdEscape(term), mdEscape(help))
	}
}

// DocPage turns a user doc into a manual page: the doc's first-level title
// gives way to the page title, NAME and the given synopsis (markdown), and
// links to other docs or anchors become their text, since a man page cannot
// follow them.
func DocPage(t Title, summary, synopsis string, doc []byte) ([]byte, error) {
	text := string(doc)
	first, rest, _ := strings.Cut(text, "\n")
	if !strings.HasPrefix(first, "# ") {
		return nil, fmt.Errorf("the doc does not open with a \"# \" title")
	}
	// Comments are for the doc's editors; the page would keep an empty
	// paragraph in their place.
	rest = regexp.MustCompile(`(?s)<!--.*?-->\n*`).ReplaceAllString(rest, "")
	rest = regexp.MustCompile(`\[([^\]]+)\]\(([^)]*)\)`).ReplaceAllStringFunc(rest, func(link string) string {
		m := regexp.MustCompile(`^\[([^\]]+)\]\(([^)]*)\)$`).FindStringSubmatch(link)
		if strings.Contains(m[2], "://") {
			return link
		}
		return m[1]
	})
	var md strings.Builder
	md.WriteString(t.markdown())
	fmt.Fprintf(&md, "# NAME\n%s - %s\n\n# SYNOPSIS\n%s\n\n# DESCRIPTION\n", t.Name, summary, synopsis)
	md.WriteString(tablesToLists(strings.TrimLeft(rest, "\n")))
	return render(md.String())
}

// tablesToLists rewrites each markdown table as a definition list: the
// first cell of a row is the term, the others follow as "Heading: text".
// Tables of long prose do not fit a terminal's width as roff tables.
func tablesToLists(md string) string {
	lines := strings.Split(md, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "|") || i+1 >= len(lines) || !isDelimiterRow(lines[i+1]) {
			out = append(out, lines[i])
			continue
		}
		head := cells(lines[i])
		i += 2
		for ; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
			row := cells(lines[i])
			if len(row) == 0 {
				continue
			}
			var parts []string
			for j, c := range row[1:] {
				if c == "" {
					continue
				}
				if j+1 < len(head) && head[j+1] != "" {
					c = head[j+1] + ": " + c
				}
				parts = append(parts, c)
			}
			out = append(out, row[0], ":   "+strings.Join(parts, "; "), "")
		}
		i--
	}
	return strings.Join(out, "\n")
}

func isDelimiterRow(line string) bool {
	return regexp.MustCompile(`^\|(\s*:?-+:?\s*\|)+\s*$`).MatchString(line)
}

// cells splits a table row on the pipes outside code spans and escapes.
func cells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	row = strings.TrimSuffix(row, "|")
	var out []string
	var cur strings.Builder
	code, escaped := false, false
	for _, r := range row {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '`':
			code = !code
		case r == '|' && !code:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	return append(out, strings.TrimSpace(cur.String()))
}

// mdEscape keeps text literal in markdown.
func mdEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '\\', '*', '_', '`', '[', ']', '<', '>', '#', '|':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
