package userdata

import "testing"

// BenchmarkExtract measures the boot-path cost of finding the configuration
// in the common shapes of user-data.
func BenchmarkExtract(b *testing.B) {
	for _, name := range []string{"ec2boot.toml", "raw.toml.gz", "multipart.mime", "multipart.mime.gz", "multipart-nested.mime"} {
		raw := readTestdata(b, name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Extract(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
