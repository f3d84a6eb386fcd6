package fakeimds

// Metadata returns a fresh, complete set of answers for one instance with
// an instance store, a public address and IPv6; tests change or delete
// entries to shape the instance they need.
func Metadata() map[string]string {
	const mac = "0e:49:61:0f:c3:11"
	return map[string]string{
		"/latest/meta-data/instance-id":                               "i-0123456789abcdef0",
		"/latest/meta-data/ami-id":                                    "ami-0abcdef1234567890",
		"/latest/meta-data/instance-type":                             "m5d.large",
		"/latest/meta-data/placement/region":                          "eu-west-1",
		"/latest/meta-data/placement/availability-zone":               "eu-west-1b",
		"/latest/meta-data/local-ipv4":                                "10.1.2.3",
		"/latest/meta-data/public-ipv4":                               "203.0.113.7",
		"/latest/meta-data/local-hostname":                            "ip-10-1-2-3.eu-west-1.compute.internal",
		"/latest/meta-data/public-hostname":                           "ec2-203-0-113-7.eu-west-1.compute.amazonaws.com",
		"/latest/meta-data/mac":                                       mac,
		"/latest/meta-data/network/interfaces/macs/" + mac + "/ipv6s": "2001:db8:1::7",
		"/latest/meta-data/block-device-mapping/ami":                  "/dev/xvda",
		"/latest/meta-data/block-device-mapping/root":                 "/dev/xvda",
		"/latest/meta-data/block-device-mapping/ephemeral0":           "sdb",
		"/latest/meta-data/block-device-mapping/ephemeral1":           "sdc",
		"/latest/user-data":                                           "[imds]\n",
	}
}
