package hosts

import (
	"fmt"

	"github.com/ec2boot/ec2boot/bootstrap/cloudinit"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// CloudInitWarnings returns the warnings about cloud-init and /etc/hosts:
// a cloud-init file it ignores as a whole (its manage_etc_hosts with it),
// and one when cloud-init is configured to manage /etc/hosts. With true (or
// template) cloud-init rewrites the whole file from its template at every
// boot, dropping the managed block until the next run; with localhost it
// rewrites the 127.0.1.1 line.
func CloudInitWarnings(root hostfs.Root) []string {
	c, err := cloudinit.Load(root)
	if err != nil {
		return []string{fmt.Sprintf("cannot tell whether cloud-init manages /etc/hosts: %v", err)}
	}
	mode, written, file := c.ManageEtcHosts()
	switch mode {
	case cloudinit.HostsTemplate:
		return c.Warnings(fmt.Sprintf("cloud-init manage_etc_hosts is %q (%s): it rewrites /etc/hosts from its template at every boot, dropping the managed block until the next run; set it to false", written, file))
	case cloudinit.HostsLocalhost:
		return c.Warnings(fmt.Sprintf("cloud-init manage_etc_hosts is \"localhost\" (%s): it adds and rewrites the 127.0.1.1 line; entries outside the managed block may change", file))
	}
	return c.Warnings()
}
