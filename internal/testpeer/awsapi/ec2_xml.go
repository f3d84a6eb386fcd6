package awsapi

import "encoding/xml"

// EC2's Query-protocol response shapes (API version 2016-11-15).

type xmlDescribeResponse struct {
	XMLName      xml.Name         `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeInstancesResponse"`
	RequestID    string           `xml:"requestId"`
	Reservations []xmlReservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

type xmlReservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Groups        struct{}      `xml:"groupSet"`
	Instances     []xmlInstance `xml:"instancesSet>item"`
}

type xmlInstance struct {
	InstanceID string `xml:"instanceId"`
	ImageID    string `xml:"imageId"`
	State      struct {
		Code int    `xml:"code"`
		Name string `xml:"name"`
	} `xml:"instanceState"`
	PrivateDNSName string `xml:"privateDnsName"`
	DNSName        string `xml:"dnsName"`
	AMILaunchIndex int    `xml:"amiLaunchIndex"`
	InstanceType   string `xml:"instanceType"`
	LaunchTime     string `xml:"launchTime"`
	Placement      struct {
		AvailabilityZone string `xml:"availabilityZone"`
		GroupName        string `xml:"groupName"`
		Tenancy          string `xml:"tenancy"`
	} `xml:"placement"`
	PrivateIPAddress  string   `xml:"privateIpAddress"`
	IPAddress         string   `xml:"ipAddress,omitempty"`
	Tags              []xmlTag `xml:"tagSet>item,omitempty"`
	NetworkInterfaces []xmlENI `xml:"networkInterfaceSet>item"`
	IPv6Address       string   `xml:"ipv6Address,omitempty"`
}

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type xmlENI struct {
	ID               string `xml:"networkInterfaceId"`
	PrivateIPAddress string `xml:"privateIpAddress"`
	IPv6             []struct {
		Address string `xml:"ipv6Address"`
	} `xml:"ipv6AddressesSet>item"`
}

type xmlEC2Error struct {
	XMLName xml.Name `xml:"Response"`
	Errors  []struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Errors>Error"`
	RequestID string `xml:"RequestID"`
}
