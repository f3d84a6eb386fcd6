package hostfs

import "testing"

// What resolving a destination costs: one lstat per component, one
// readlink per link.
func BenchmarkDest(b *testing.B) {
	root := tree(b, "etc/", "etc/app/", "srv/", "srv/peers.json=x", "etc/app/peers.json->/srv/peers.json", "etc/hosts=x")
	for _, p := range []string{"/etc/hosts", "/etc/app/peers.json"} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				if _, err := Root(root).Dest(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
