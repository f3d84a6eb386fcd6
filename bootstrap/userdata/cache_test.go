package userdata

import (
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/state"
)

func TestCacheRoundTripKeyedByInstance(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	raw := readTestdata(t, "multipart.mime.gz")
	mine, err := state.Open(dir, "i-0aaa", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveCache(mine, raw, now); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(mine.Path(CacheName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache mode = %v, want 0600", fi.Mode().Perm())
	}

	got, found, foreign, err := LoadCache(mine)
	if err != nil || !found || foreign {
		t.Fatalf("LoadCache = found %v foreign %v err %v", found, foreign, err)
	}
	if diff := cmp.Diff(raw, got); diff != "" {
		t.Errorf("cached bytes (-want +got):\n%s", diff)
	}
	r, err := Extract(got)
	if err != nil || string(r.TOML) != string(readTestdata(t, "ec2boot.toml")) {
		t.Errorf("cached user-data does not extract to ec2boot.toml: %v %q", err, r.TOML)
	}

	// Saving the same again writes nothing, not even a new timestamp.
	before, _ := os.ReadFile(mine.Path(CacheName))
	if err := SaveCache(mine, raw, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(mine.Path(CacheName))
	if diff := cmp.Diff(string(before), string(after)); diff != "" {
		t.Errorf("unchanged save rewrote the cache:\n%s", diff)
	}

	// Another instance booted from an image with this state directory.
	other, err := state.Open(dir, "i-0bbb", true)
	if err != nil {
		t.Fatal(err)
	}
	got, found, foreign, err = LoadCache(other)
	if err != nil || found || !foreign || got != nil {
		t.Errorf("foreign cache: found %v foreign %v err %v data %q", found, foreign, err, got)
	}
}

func TestCacheRemembersNoUserData(t *testing.T) {
	s, err := state.Open(t.TempDir(), "i-1", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, found, _, _ := LoadCache(s); found {
		t.Fatal("found a cache in an empty directory")
	}
	if err := SaveCache(s, nil, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	got, found, _, err := LoadCache(s)
	if err != nil || !found || len(got) != 0 {
		t.Fatalf("found %v err %v data %q", found, err, got)
	}
}

func TestCacheRefusedDuringPlan(t *testing.T) {
	s, err := state.Open(t.TempDir(), "i-1", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveCache(s, []byte("[hosts]\n"), time.Unix(0, 0)); err == nil {
		t.Fatal("SaveCache on a read-only store succeeded")
	}
}

func TestCacheCorrupt(t *testing.T) {
	dir := t.TempDir()
	s, err := state.Open(dir, "i-1", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Path(CacheName), []byte(`{"instance_id":"i-1","data":"!!"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, found, _, err := LoadCache(s); err == nil || found {
		t.Fatalf("corrupt cache: found %v err %v", found, err)
	}
}
