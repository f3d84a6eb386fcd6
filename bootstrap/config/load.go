package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Source is one TOML document and the name it is reported under.
type Source struct {
	Name string // "user-data", or the local file's path
	Data []byte
}

// Load parses the sources, lowest precedence first (the local file, then
// user-data), merges them and validates the result. Tables merge key by key;
// a later source's value (including a whole array) replaces an earlier one.
// The returned problems include warnings even when the config is usable;
// the config is nil when there is any error.
func Load(sources ...Source) (*Config, Problems) {
	cfg, problems := load(sources)
	if len(problems.Errors()) > 0 {
		return nil, problems
	}
	return cfg, problems
}

// load is Load that also returns a configuration with errors, as far as
// it could be read (nil only when a source does not parse), for checks
// that report every problem at once.
func load(sources []Source) (*Config, Problems) {
	var problems Problems
	var maps []map[string]any
	var located []locatedSource
	unreadable := false
	for _, src := range sources {
		m, ps := parseSource(src)
		problems = append(problems, ps...)
		if m == nil {
			unreadable = true
			continue
		}
		maps = append(maps, m)
		located = append(located, locatedSource{name: src.Name, keys: keyPositions(src.Data)})
	}
	// A syntax or type error leaves nothing to validate; unknown keys do
	// not stop the rest from being checked, so every problem is reported
	// in one go.
	if unreadable {
		problems.sort()
		return nil, problems
	}
	merged := map[string]any{}
	for _, m := range maps {
		mergeInto(merged, m)
	}
	cfg := &Config{}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(merged); err != nil {
		return nil, append(problems, Problem{Message: fmt.Sprintf("merging configuration: %v", err)})
	}
	if _, err := toml.Decode(buf.String(), cfg); err != nil {
		return nil, append(problems, Problem{Message: fmt.Sprintf("merging configuration: %v", err)})
	}
	cfg.setDefaults()
	v := &validator{locate: locator(located)}
	cfg.validate(v)
	problems = append(problems, v.problems...)
	problems.sort()
	return cfg, problems
}

// LoadFiles reads a local config file (missing is fine: it is optional) and
// loads it under the user-data TOML; userData.Data nil means none.
// userData.Name is what problems in it are reported under, e.g.
// "user-data part 2 (ec2boot.toml)".
func LoadFiles(localPath, localName string, userData Source) (*Config, Problems) {
	return Local{Path: localPath, Name: localName}.Load(userData)
}

// Local is the local configuration file.
type Local struct {
	Path string // where it is read (under --root)
	Name string // what problems call it: the path as configured
	// Required makes a missing file an error: it was named explicitly
	// (--config), so its absence is a mistake, not a choice.
	Required bool
}

// Sources reads the file: none when it is missing and not required.
func (l Local) Sources() ([]Source, Problems) {
	b, err := os.ReadFile(l.Path)
	switch {
	case err == nil:
		return []Source{{Name: l.Name, Data: b}}, nil
	case errors.Is(err, os.ErrNotExist) && !l.Required:
		return nil, nil
	case errors.Is(err, os.ErrNotExist):
		return nil, Problems{{Source: l.Name, Message: "no such file (given with --config)"}}
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return nil, Problems{{Source: l.Name, Message: err.Error()}}
}

// Load loads the local file merged under userData (Data nil: none).
func (l Local) Load(userData Source) (*Config, Problems) {
	sources, problems := l.Sources()
	if problems.Err() != nil {
		return nil, problems
	}
	if userData.Data != nil {
		if userData.Name == "" {
			userData.Name = "user-data"
		}
		sources = append(sources, userData)
	}
	return Load(sources...)
}

// Check is Load for `ec2boot validate`: the configuration is returned
// even when it has errors, as far as it could be read, so that its
// templates can be checked too.
func (l Local) Check(userData Source) (*Config, Problems) {
	sources, problems := l.Sources()
	if problems.Err() != nil {
		return nil, problems
	}
	if userData.Data != nil {
		sources = append(sources, userData)
	}
	return load(sources)
}

// LoadSections loads the local file alone for a command that acts only on
// some sections of it (prepare-image: relocate). Syntax, types and unknown
// keys are checked everywhere; the other rules only in those sections, as
// user-data may complete the rest at launch (a local account without its
// username is not wrong). The config is nil when any of that fails.
func (l Local) LoadSections(sections ...string) (*Config, Problems) {
	cfg, all := l.Check(Source{})
	var problems Problems
	for _, p := range all {
		if p.Severity == Error && p.Message != "unknown key" && p.Key != "" && !inSections(p.Key, sections) {
			continue
		}
		problems = append(problems, p)
	}
	if problems.Err() != nil {
		return nil, problems
	}
	return cfg, problems
}

func inSections(key string, sections []string) bool {
	for _, s := range sections {
		if key == s || strings.HasPrefix(key, s+".") || strings.HasPrefix(key, s+"[") {
			return true
		}
	}
	return false
}

// LoadIMDS returns what is needed before user-data can be fetched: the
// [imds] section of the local file, with defaults. The file's syntax,
// types and keys are checked, and the [imds] rules; the rest waits for the
// merge with user-data, which may complete what the local file leaves out
// (a local account without username, say).
func LoadIMDS(l Local) (IMDS, Problems) {
	sources, problems := l.Sources()
	if problems.Err() != nil {
		return IMDS{}, problems
	}
	var cfg Config
	for _, src := range sources {
		m, ps := parseSource(src)
		problems = append(problems, ps.Errors()...)
		if m == nil {
			continue
		}
		if _, err := toml.Decode(string(src.Data), &cfg); err != nil {
			problems = append(problems, tomlProblem(src.Name, err, keyPositions(src.Data)))
		}
	}
	if problems.Err() != nil {
		problems.sort()
		return IMDS{}, problems
	}
	cfg.IMDS.setDefaults()
	located := make([]locatedSource, len(sources))
	for i, src := range sources {
		located[i] = locatedSource{name: src.Name, keys: keyPositions(src.Data)}
	}
	v := &validator{locate: locator(located)}
	cfg.IMDS.validate(v)
	problems = append(problems, v.problems.Errors()...)
	problems.sort()
	return cfg.IMDS, problems
}

// parseSource checks one document on its own: syntax, types and unknown keys.
func parseSource(src Source) (map[string]any, Problems) {
	var problems Problems
	var m map[string]any
	keys := keyPositions(src.Data)
	if _, err := toml.Decode(string(src.Data), &m); err != nil {
		return nil, Problems{tomlProblem(src.Name, err, keys)}
	}
	var probe Config
	md, err := toml.Decode(string(src.Data), &probe)
	if err != nil {
		return nil, Problems{tomlProblem(src.Name, err, keys)}
	}
	undecoded := map[string]bool{}
	for _, k := range md.Undecoded() {
		undecoded[keyString(k)] = true
	}
	for _, k := range md.Undecoded() {
		if isUnderVars(k) || underUnknown(k, undecoded) {
			continue
		}
		path := keyString(k)
		for _, pos := range keys.all(path) {
			problems = append(problems, Problem{Source: src.Name, Line: pos.line, Column: pos.col, Key: pos.key, Message: unknownKeyMessage(path)})
		}
		if len(keys.all(path)) == 0 {
			problems = append(problems, Problem{Source: src.Name, Key: path, Message: unknownKeyMessage(path)})
		}
	}
	return m, problems
}

// underUnknown reports whether a parent of k is itself an unknown key: a
// misspelt table is one problem, not one per key inside it.
func underUnknown(k toml.Key, undecoded map[string]bool) bool {
	for i := 1; i < len(k); i++ {
		if undecoded[keyString(k[:i])] {
			return true
		}
	}
	return false
}

// vars is free-form: user variables for templates.
func isUnderVars(k toml.Key) bool { return len(k) > 0 && k[0] == "vars" }

func keyString(k toml.Key) string {
	parts := make([]string, len(k))
	for i, p := range k {
		parts[i] = p
	}
	return strings.Join(parts, ".")
}

// typeError matches the decoder's type errors, which carry the line and key
// only in their text: `toml: line 2 (last key "disk.warn_percent"): ...`.
var typeError = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)

func tomlProblem(source string, err error, keys keyIndex) Problem {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if msg == "" {
			msg = pe.Error()
		}
		return Problem{Source: source, Line: pe.Position.Line, Column: pe.Position.Col, Key: keys.indexedAt(pe.LastKey, pe.Position.Line), Message: msg}
	}
	if m := typeError.FindStringSubmatch(err.Error()); m != nil {
		p := Problem{Source: source, Key: m[2], Message: m[3]}
		p.Line, _ = strconv.Atoi(m[1])
		for _, pos := range keys.all(m[2]) {
			if p.Line == 0 || pos.line == p.Line {
				p.Line, p.Column, p.Key = pos.line, pos.col, pos.key
				break
			}
		}
		return p
	}
	return Problem{Source: source, Message: err.Error()}
}

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sm)
				continue
			}
			cp := map[string]any{}
			mergeInto(cp, sm)
			dst[k] = cp
			continue
		}
		dst[k] = v
	}
}

type locatedSource struct {
	name string
	keys keyIndex
}

// locator finds a key in the highest-precedence source that defines it,
// falling back to its nearest defined parent.
func locator(sources []locatedSource) func(string) (string, int, int) {
	return func(key string) (string, int, int) {
		for k := key; k != ""; k = parentKey(k) {
			for i := len(sources) - 1; i >= 0; i-- {
				if pos, ok := sources[i].keys.exact[k]; ok {
					return sources[i].name, pos.line, pos.col
				}
			}
		}
		if len(sources) > 0 {
			return sources[len(sources)-1].name, 0, 0
		}
		return "", 0, 0
	}
}

func parentKey(k string) string {
	if strings.HasSuffix(k, "]") {
		if i := strings.LastIndexByte(k, '['); i > 0 {
			return k[:i]
		}
	}
	if i := strings.LastIndexByte(k, '.'); i > 0 {
		return k[:i]
	}
	return ""
}
