package render

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// lookupID resolves a user or group name (or number) through the root's
// /etc/passwd or /etc/group, so that --root runs use the tree's accounts,
// not the machine's. "" means -1: keep the existing owner.
func lookupID(root hostfs.Root, db, name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	path := root.Path("/etc/" + db)
	b, err := os.ReadFile(path)
	if err != nil {
		return -1, fmt.Errorf("look up %q: %w", name, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) >= 3 && f[0] == name {
			id, err := strconv.Atoi(f[2])
			if err != nil {
				return -1, fmt.Errorf("%s: bad id for %q", root.Rel(path), name)
			}
			return id, nil
		}
	}
	return -1, fmt.Errorf("no %s %q in %s", map[string]string{"passwd": "user", "group": "group"}[db], name, root.Rel(path))
}
