package userdata

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzExtract: no input may panic, and whatever comes out must be usable:
// valid UTF-8 within the bounds, and a description either way.
func FuzzExtract(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdata, "*"))
	for _, file := range files {
		if strings.HasSuffix(file, ".golden") || filepath.Base(file) == "generate.sh" {
			continue
		}
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/x-ec2boot\n\n[hosts]\n--b--\n"))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := Extract(raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "user-data") {
				t.Errorf("error does not say where: %v", err)
			}
			return
		}
		if r.TOML != nil {
			if !utf8.Valid(r.TOML) {
				t.Errorf("TOML is not UTF-8")
			}
			if len(r.TOML) > MaxDecompressed {
				t.Errorf("TOML of %d bytes passed the %d cap", len(r.TOML), MaxDecompressed)
			}
		}
		if r.Describe() == "" {
			t.Error("empty description")
		}
	})
}
