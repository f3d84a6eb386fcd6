// Package cmddoc turns ec2boot's command table and help text into its manual
// pages (roff, through go-md2man) and its shell completions, and a user doc
// (docs/*.md) into a manual page. The generated files are committed; a test
// in cmd/ec2boot regenerates them from the same table that --help prints and
// fails when they differ, so they cannot drift from the program.
package cmddoc

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Reference is what a program says about itself.
type Reference struct {
	Name     string // program name: ec2boot
	Summary  string // the NAME line after the dash
	Usage    string // the top-level --help text
	Commands []Command
	Globals  []Flag   // accepted before or after every command
	SeeAlso  []string // "ec2boot.toml(5)"
}

// Command is one verb with its own flags.
type Command struct {
	Name  string
	Args  string // synopsis after the name: "[--force]"
	Help  string // what --help says, possibly several lines
	Flags []Flag
}

// Flag is one option; Names are without dashes ("v", "verbose").
type Flag struct {
	Names []string
	Arg   string // placeholder for a value ("DIR"); empty for a switch
	Usage string
}

// Spelled returns the option as typed: "-v, --verbose", "--root DIR".
func (f Flag) Spelled() string {
	var names []string
	for _, n := range f.Names {
		if len(n) == 1 {
			names = append(names, "-"+n)
		} else {
			names = append(names, "--"+n)
		}
	}
	s := strings.Join(names, ", ")
	if f.Arg != "" {
		s += " " + f.Arg
	}
	return s
}

// Block is one part of a usage text: a "Heading:" line at the margin and
// the indented lines under it; the opening paragraph has no heading.
type Block struct {
	Heading string
	Lines   []string
}

// Blocks splits a usage text into its paragraphs.
func Blocks(usage string) []Block {
	var out []Block
	cur := Block{}
	flush := func() {
		if cur.Heading != "" || len(cur.Lines) > 0 {
			out = append(out, cur)
		}
		cur = Block{}
	}
	for _, line := range strings.Split(usage, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case !strings.HasPrefix(line, " ") && strings.HasSuffix(line, ":") && len(cur.Lines) == 0 && cur.Heading == "":
			cur.Heading = strings.TrimSuffix(line, ":")
		default:
			cur.Lines = append(cur.Lines, line)
		}
	}
	flush()
	return out
}

// Block returns the usage text's block under heading.
func (r Reference) Block(heading string) (Block, error) {
	for _, b := range Blocks(r.Usage) {
		if b.Heading == heading {
			return b, nil
		}
	}
	return Block{}, fmt.Errorf("the usage text has no %q block", heading+":")
}

// Entries reads a block of "  TERM   text" lines whose continuation lines are
// indented further, as the usage text lays out its flags.
func Entries(b Block) [][2]string {
	var out [][2]string
	split := regexp.MustCompile(`\s{2,}`)
	for _, line := range b.Lines {
		body := strings.TrimLeft(line, " ")
		indent := len(line) - len(body)
		if indent <= 2 || len(out) == 0 {
			parts := split.Split(body, 2)
			e := [2]string{parts[0], ""}
			if len(parts) == 2 {
				e[1] = parts[1]
			}
			out = append(out, e)
			continue
		}
		last := &out[len(out)-1]
		last[1] = strings.TrimSpace(last[1] + " " + body)
	}
	return out
}

// sorted returns the commands by name.
func (r Reference) sorted() []Command {
	cmds := append([]Command(nil), r.Commands...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return cmds
}
