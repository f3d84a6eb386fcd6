package hosts

import (
	"fmt"

	"github.com/ec2boot/ec2boot/bootstrap/cloudinit"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// CloudInitWarning returns a warning when cloud-init is configured to manage
// /etc/hosts, or "". With true (or template) cloud-init rewrites the whole
// file from its template at every boot, dropping the managed block until
// the next run; with localhost it rewrites the 127.0.1.1 line.
func CloudInitWarning(root hostfs.Root) string {
	c, err := cloudinit.Load(root)
	if err != nil {
		return fmt.Sprintf("cannot tell whether cloud-init manages /etc/hosts: %v", err)
	}
	if !c.Active() {
		return ""
	}
	mode, file := c.ManageEtcHosts()
	switch mode {
	case "true", "yes", "on", "template":
		return fmt.Sprintf("cloud-init manage_etc_hosts is %q (%s): it rewrites /etc/hosts from its template at every boot, dropping the managed block until the next run; set it to false", mode, file)
	case "localhost":
		return fmt.Sprintf("cloud-init manage_etc_hosts is \"localhost\" (%s): it adds and rewrites the 127.0.1.1 line; entries outside the managed block may change", file)
	}
	return ""
}
