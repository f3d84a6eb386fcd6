// Package systemtest proves ec2boot's boot integration end to end: the
// systemd units under a real systemd as PID 1 (a debootstrapped Debian
// rootfs booted with systemd-nspawn, the package installed by the AMI
// provisioning scripts), a fleet of such instances each with its own
// instance metadata emulator in its own network namespace sharing a
// dyndns2 provider that feeds BIND, the Packer template, the packages and
// the cloud-init examples.
//
// The package has only tests. The light ones (unit linting, Packer, cloud-init,
// packages) need the tools they check and, for some, root; a missing tool
// skips them, or fails them when CI is set. The heavy ones (booting
// containers) also need EC2BOOT_SYSTEMTEST_CACHE: a directory where the
// Debian rootfs is built once (debootstrap, about 40 s, from the Debian
// mirror apt already uses) and reused by later runs. Run them all, as root,
// with
//
//	EC2BOOT_SYSTEMTEST_CACHE=/var/tmp/ec2boot-systemtest CI=1 go test -count=1 -timeout 15m ./tests/systemtest/
//
// About 2 minutes with an empty cache, a little over 1 with a filled one.
package systemtest
