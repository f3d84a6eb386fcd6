package cmddoc

import (
	"fmt"
	"sort"
	"strings"
)

// A value's placeholder says what to complete: a directory, a file, or
// nothing the shell can know (a URL, a duration).
func bashValue(arg string) string {
	switch arg {
	case "DIR":
		return `COMPREPLY=($(compgen -d -- "$cur"))`
	case "FILE":
		return `COMPREPLY=($(compgen -f -- "$cur"))`
	}
	return `COMPREPLY=()`
}

func zshValue(arg string) string {
	switch arg {
	case "DIR":
		return "_files -/"
	case "FILE":
		return "_files"
	}
	return ""
}

// Bash writes a completion script for bash (no bash-completion helpers
// needed): commands, each command's flags and the global flags, files and
// directories for FILE and DIR values.
func Bash(r Reference) string {
	var b strings.Builder
	fn := "_" + strings.ReplaceAll(r.Name, "-", "_")
	fmt.Fprintf(&b, "# bash completion for %s. Generated from the command table by cmd/%s's\n", r.Name, r.Name)
	fmt.Fprintf(&b, "# tests (make man); do not edit.\n\n%s() {\n", fn)
	b.WriteString("    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i\n")

	valued := map[string]string{} // "--root" -> "DIR"
	var globals []string
	for _, f := range r.Globals {
		for _, n := range spellings(f) {
			globals = append(globals, n)
			if f.Arg != "" {
				valued[n] = f.Arg
			}
		}
	}
	cmds := r.sorted()
	for _, c := range cmds {
		for _, f := range c.Flags {
			for _, n := range spellings(f) {
				if f.Arg != "" {
					valued[n] = f.Arg
				}
			}
		}
	}
	valueNames := sortedKeys(valued)
	// The command is the first word that is neither a flag nor a flag's value.
	b.WriteString("    for ((i = 1; i < COMP_CWORD; i++)); do\n")
	b.WriteString("        case ${COMP_WORDS[i]} in\n        -*) continue ;;\n        esac\n")
	fmt.Fprintf(&b, "        case ${COMP_WORDS[i-1]} in\n        %s) continue ;;\n        esac\n", strings.Join(valueNames, "|"))
	b.WriteString("        cmd=${COMP_WORDS[i]}\n        break\n    done\n")

	b.WriteString("    case $prev in\n")
	byAction := map[string][]string{}
	for _, n := range valueNames {
		a := bashValue(valued[n])
		byAction[a] = append(byAction[a], n)
	}
	for _, a := range sortedKeys(byAction) {
		fmt.Fprintf(&b, "    %s)\n        %s\n        return\n        ;;\n", strings.Join(byAction[a], "|"), a)
	}
	b.WriteString("    esac\n")

	fmt.Fprintf(&b, "    local opts=%q words=\n", strings.Join(globals, " "))
	b.WriteString("    case $cmd in\n")
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	fmt.Fprintf(&b, "    \"\") words=%q ;;\n", strings.Join(names, " "))
	for _, c := range cmds {
		var own []string
		for _, f := range c.Flags {
			own = append(own, spellings(f)...)
		}
		fmt.Fprintf(&b, "    %s)", c.Name)
		if len(own) > 0 {
			fmt.Fprintf(&b, " opts=\"$opts %s\"", strings.Join(own, " "))
		}
		if strings.Contains(c.Args, "FILE") {
			b.WriteString("\n        [[ $cur == -* ]] || { COMPREPLY=($(compgen -f -- \"$cur\")); return; }\n       ")
		}
		b.WriteString(" ;;\n")
	}
	b.WriteString("    *) return ;;\n    esac\n")
	b.WriteString("    if [[ $cur == -* ]]; then\n        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n")
	b.WriteString("    else\n        COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n    fi\n}\n")
	fmt.Fprintf(&b, "complete -F %s %s\n", fn, r.Name)
	return b.String()
}

// Zsh writes a completion function for zsh's compsys (#compdef).
func Zsh(r Reference) string {
	var b strings.Builder
	fn := "_" + strings.ReplaceAll(r.Name, "-", "_")
	fmt.Fprintf(&b, "#compdef %s\n# zsh completion for %s. Generated from the command table by cmd/%s's\n", r.Name, r.Name, r.Name)
	fmt.Fprintf(&b, "# tests (make man); do not edit.\n\n%s() {\n", fn)
	b.WriteString("    local curcontext=$curcontext state line\n    local -a globals commands\n    globals=(\n")
	for _, f := range r.Globals {
		for _, spec := range zshSpecs(f) {
			fmt.Fprintf(&b, "        %s\n", spec)
		}
	}
	b.WriteString("    )\n    commands=(\n")
	for _, c := range r.sorted() {
		summary, _, _ := strings.Cut(c.Help, "\n")
		fmt.Fprintf(&b, "        %s\n", zshQuote(c.Name+":"+strings.TrimSuffix(summary, ".")))
	}
	b.WriteString("    )\n")
	b.WriteString("    _arguments -C $globals '1: :->command' '*:: :->args' && return\n")
	b.WriteString("    case $state in\n    command)\n        _describe -t commands 'command' commands\n        ;;\n")
	b.WriteString("    args)\n        case $line[1] in\n")
	for _, c := range r.sorted() {
		fmt.Fprintf(&b, "        %s)\n            _arguments $globals", c.Name)
		for _, f := range c.Flags {
			for _, spec := range zshSpecs(f) {
				b.WriteString(" \\\n                " + spec)
			}
		}
		if strings.Contains(c.Args, "FILE") {
			b.WriteString(" \\\n                '1:file:_files'")
		}
		b.WriteString("\n            ;;\n")
	}
	b.WriteString("        esac\n        ;;\n    esac\n}\n\n")
	fmt.Fprintf(&b, "%s \"$@\"\n", fn)
	return b.String()
}

func zshSpecs(f Flag) []string {
	desc := strings.NewReplacer("[", `\[`, "]", `\]`).Replace(f.Usage)
	var out []string
	for _, n := range spellings(f) {
		spec := n + "[" + desc + "]"
		if f.Arg != "" {
			spec += ":" + strings.ToLower(f.Arg) + ":" + zshValue(f.Arg)
		}
		out = append(out, zshQuote(spec))
	}
	return out
}

func zshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func spellings(f Flag) []string {
	var out []string
	for _, n := range f.Names {
		if len(n) == 1 {
			out = append(out, "-"+n)
		} else {
			out = append(out, "--"+n)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
