package facts

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ec2boot/ec2boot/bootstrap/names"
)

// The metadata paths of the fleet facts: who the instance is within its
// Auto Scaling group or launch request.
const (
	tagsPath     = "tags/instance"
	identityPath = "/latest/dynamic/instance-identity/document"
)

// NameData is the facts as name templates see them (package names; the
// fields are documented in docs/config.md).
func (f *Facts) NameData() names.Data {
	d := names.Data{
		InstanceID: f.InstanceID, ShortID: names.ShortID(f.InstanceID),
		InstanceType: f.InstanceType, LifeCycle: f.LifeCycle,
		AvailabilityZone: f.AvailabilityZone, Region: f.Region,
		Tags: f.Tags, TagsAvailable: f.TagsAvailable,
	}
	if f.InstanceID == "" {
		d.ShortID = ""
	}
	if f.LaunchIndex != nil {
		d.LaunchIndex = strconv.Itoa(*f.LaunchIndex)
	}
	if f.LocalIPv4.IsValid() {
		d.LocalIPv4 = f.LocalIPv4.String()
		d.LocalIPv4Dashed = names.Dashed(d.LocalIPv4)
	}
	return d
}

// parseLaunchIndex reads ami-launch-index: a small non-negative number.
func parseLaunchIndex(b []byte) (*int, error) {
	s := strings.TrimSpace(string(b))
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("%q is not a launch index", clip(s))
	}
	return &n, nil
}

// parsePendingTime reads pendingTime from the instance identity document.
func parsePendingTime(b []byte) (time.Time, error) {
	var doc struct {
		PendingTime string `json:"pendingTime"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return time.Time{}, fmt.Errorf("not a JSON identity document: %v", err)
	}
	if doc.PendingTime == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, doc.PendingTime)
	if err != nil {
		return time.Time{}, fmt.Errorf("pendingTime %q is not a time", clip(doc.PendingTime))
	}
	return t.UTC(), nil
}

// tagKeyRe is a tag key IMDS can serve: letters, digits and + - = . , _ : @
// (AWS refuses other keys once tags are in the metadata). Anything else
// could change the path it is read from.
var tagKeyRe = regexp.MustCompile(`^[A-Za-z0-9+=.,_:@-]+$`)

// isTagKey reports whether k is such a key, 128 bytes at most and not "."
// or "..".
func isTagKey(k string) bool {
	return len(k) <= 128 && k != "." && k != ".." && tagKeyRe.MatchString(k)
}

// checkTagValue refuses values no file or name could carry safely: not
// UTF-8, or with control characters (tags are free text up to 256
// characters, but a newline would break facts.env).
func checkTagValue(v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("not UTF-8")
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("has a control character")
		}
	}
	if len(v) > 256 {
		return fmt.Errorf("is %d bytes long, over the 256 EC2 allows", len(v))
	}
	return nil
}

// tagsJob is the tags' part of the wave: the listing, then every value
// in parallel through run. A 404 on the listing means tags are not in the
// metadata (the default), which is no error.
func tagsJob(ctx context.Context, src Getter, f *Facts, w *wave) {
	b, err := optional(ctx, src, metaData+tagsPath)
	if err != nil {
		w.fail(err)
		return
	}
	if b == nil {
		return
	}
	// One key a line; a key IMDS could not serve is left out alone (the
	// block-device listing's parser refuses the whole listing instead).
	keys := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
	w.mu.Lock()
	f.TagsAvailable, f.Tags = true, map[string]string{}
	w.mu.Unlock()
	for _, k := range keys {
		k = strings.TrimRight(k, "\r")
		if k == "" {
			continue
		}
		if !isTagKey(k) {
			w.warn("metadata %s: the key %q is not one IMDS serves; left out", tagsPath, clip(k))
			continue
		}
		w.run(func() {
			b, err := optional(ctx, src, metaData+tagsPath+"/"+k)
			if err != nil {
				w.fail(err)
				return
			}
			if b == nil {
				return // removed between the listing and now
			}
			v := string(b)
			if err := checkTagValue(v); err != nil {
				w.warn("metadata %s/%s: the value %v; left out", tagsPath, k, err)
				return
			}
			w.mu.Lock()
			f.Tags[k] = v
			w.mu.Unlock()
		})
	}
}
