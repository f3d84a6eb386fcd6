package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type sample struct {
	Addr string `json:"addr"`
	N    int    `json:"n"`
}

var t0 = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func TestSaveLoadAndForeignInstance(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(dir, "i-0aaa", false)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %o, want 700", st.Mode().Perm())
	}
	want := sample{Addr: "10.0.0.1", N: 2}
	if err := s.Save("x", want, t0); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(s.Path("x")); st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %o, want 600", st.Mode().Perm())
	}
	var got sample
	found, foreign, err := s.Load("x", &got)
	if err != nil || !found || foreign {
		t.Fatalf("Load = %v %v %v", found, foreign, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}

	// The same directory seen by another instance (baked into an AMI).
	other, _ := Open(dir, "i-0bbb", false)
	var none sample
	found, foreign, err = other.Load("x", &none)
	if err != nil || found || !foreign || none != (sample{}) {
		t.Errorf("foreign Load = %v %v %v %+v", found, foreign, err, none)
	}
	id, at, found, err := other.LoadAny("x", &none)
	if err != nil || !found || id != "i-0aaa" || !at.Equal(t0) || none != want {
		t.Errorf("LoadAny = %q %v %v %v %+v", id, at, found, err, none)
	}
}

func TestSaveWritesOnlyWhenTheDataChanged(t *testing.T) {
	s, _ := Open(t.TempDir(), "i-0aaa", false)
	if err := s.Save("x", sample{N: 1}, t0); err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(s.Path("x"))
	if err := s.Save("x", sample{N: 1}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(s.Path("x"))
	if !os.SameFile(st1, st2) || !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("unchanged data rewrote the file")
	}
	if err := s.Save("x", sample{N: 2}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, at, _, _ := s.LoadAny("x", &sample{})
	if !at.Equal(t0.Add(time.Hour)) {
		t.Errorf("saved_at %v after a change", at)
	}
}

func TestReadOnlyAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	ro, _ := Open(filepath.Join(dir, "missing"), "i-0aaa", true)
	if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a read-only store created its directory")
	}
	if err := ro.Save("x", sample{}, t0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only Save = %v", err)
	}
	if err := ro.Remove("x"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only Remove = %v", err)
	}
	s, _ := Open(dir, "i-0aaa", false)
	os.WriteFile(s.Path("bad"), []byte("{not json"), 0o600)
	_, _, err := s.Load("bad", &sample{})
	if err == nil || !strings.Contains(err.Error(), s.Path("bad")) || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt Load = %v, want an error naming the file", err)
	}
	found, _, err := s.Load("absent", &sample{})
	if found || err != nil {
		t.Errorf("absent Load = %v %v", found, err)
	}
}

// TestSavedAtInTheFutureIsNotKept: unchanged data keeps its saved_at,
// except a saved_at in the future (state baked on a skewed host), which
// the next save replaces with now.
func TestSavedAtInTheFutureIsNotKept(t *testing.T) {
	s, err := Open(t.TempDir(), "i-0aaa", false)
	if err != nil {
		t.Fatal(err)
	}
	y2099 := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	v := sample{Addr: "10.0.0.1"}
	if err := s.Save("x", v, y2099); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("x", v, t0); err != nil {
		t.Fatal(err)
	}
	var got sample
	_, savedAt, _, err := s.LoadAny("x", &got)
	if err != nil || !savedAt.Equal(t0) {
		t.Errorf("saved_at = %s, %v; want %s", savedAt, err, t0)
	}
}
