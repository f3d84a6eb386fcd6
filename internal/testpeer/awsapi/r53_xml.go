package awsapi

import "encoding/xml"

// Route 53's REST-XML shapes (API version 2013-04-01). Every root element
// carries the namespace; field order follows the API reference.

const r53NS = "https://route53.amazonaws.com/doc/2013-04-01/"

type xmlChangeRequest struct {
	XMLName     xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ChangeResourceRecordSetsRequest"`
	ChangeBatch struct {
		Comment *string     `xml:"Comment"`
		Changes []xmlChange `xml:"Changes>Change"`
	} `xml:"ChangeBatch"`
}

type xmlChange struct {
	Action            string       `xml:"Action"`
	ResourceRecordSet xmlRecordSet `xml:"ResourceRecordSet"`
}

type xmlRecordSet struct {
	Name             string      `xml:"Name"`
	Type             string      `xml:"Type"`
	SetIdentifier    *string     `xml:"SetIdentifier,omitempty"`
	Weight           *int64      `xml:"Weight,omitempty"`
	MultiValueAnswer *bool       `xml:"MultiValueAnswer,omitempty"`
	TTL              *int64      `xml:"TTL,omitempty"`
	ResourceRecords  *xmlRecords `xml:"ResourceRecords,omitempty"`
	// Routing the peer does not model: present means InvalidInput.
	AliasTarget     *struct{} `xml:"AliasTarget,omitempty"`
	Region          *string   `xml:"Region,omitempty"`
	Failover        *string   `xml:"Failover,omitempty"`
	GeoLocation     *struct{} `xml:"GeoLocation,omitempty"`
	HealthCheckID   *string   `xml:"HealthCheckId,omitempty"`
	TrafficPolicyID *string   `xml:"TrafficPolicyInstanceId,omitempty"`
}

type xmlRecords struct {
	Records []xmlValue `xml:"ResourceRecord"`
}

type xmlValue struct {
	Value string `xml:"Value"`
}

type xmlChangeInfo struct {
	ID          string  `xml:"Id"`
	Status      string  `xml:"Status"`
	SubmittedAt string  `xml:"SubmittedAt"`
	Comment     *string `xml:"Comment,omitempty"`
}

type xmlChangeResponse struct {
	XMLName    xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ChangeResourceRecordSetsResponse"`
	ChangeInfo xmlChangeInfo `xml:"ChangeInfo"`
}

type xmlGetChangeResponse struct {
	XMLName    xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetChangeResponse"`
	ChangeInfo xmlChangeInfo `xml:"ChangeInfo"`
}

type xmlListRecordsResponse struct {
	XMLName              xml.Name       `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListResourceRecordSetsResponse"`
	Sets                 []xmlRecordSet `xml:"ResourceRecordSets>ResourceRecordSet"`
	IsTruncated          bool           `xml:"IsTruncated"`
	NextRecordName       *string        `xml:"NextRecordName,omitempty"`
	NextRecordType       *string        `xml:"NextRecordType,omitempty"`
	NextRecordIdentifier *string        `xml:"NextRecordIdentifier,omitempty"`
	MaxItems             string         `xml:"MaxItems"`
}

type xmlHostedZone struct {
	ID              string `xml:"Id"`
	Name            string `xml:"Name"`
	CallerReference string `xml:"CallerReference"`
	Config          struct {
		Comment     *string `xml:"Comment,omitempty"`
		PrivateZone bool    `xml:"PrivateZone"`
	} `xml:"Config"`
	ResourceRecordSetCount int `xml:"ResourceRecordSetCount"`
}

type xmlListZonesByNameResponse struct {
	XMLName          xml.Name        `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesByNameResponse"`
	HostedZones      []xmlHostedZone `xml:"HostedZones>HostedZone"`
	DNSName          *string         `xml:"DNSName,omitempty"`
	HostedZoneID     *string         `xml:"HostedZoneId,omitempty"`
	IsTruncated      bool            `xml:"IsTruncated"`
	NextDNSName      *string         `xml:"NextDNSName,omitempty"`
	NextHostedZoneID *string         `xml:"NextHostedZoneId,omitempty"`
	MaxItems         string          `xml:"MaxItems"`
}

type xmlVPC struct {
	Region string `xml:"VPCRegion"`
	ID     string `xml:"VPCId"`
}

type xmlGetZoneResponse struct {
	XMLName       xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHostedZoneResponse"`
	HostedZone    xmlHostedZone `xml:"HostedZone"`
	DelegationSet *struct {
		NameServers []string `xml:"NameServers>NameServer"`
	} `xml:"DelegationSet,omitempty"`
	VPCs []xmlVPC `xml:"VPCs>VPC,omitempty"`
}

type xmlR53Error struct {
	XMLName xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ErrorResponse"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

type xmlInvalidChangeBatch struct {
	XMLName   xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ InvalidChangeBatch"`
	Messages  []string `xml:"Messages>Message"`
	RequestID string   `xml:"RequestId"`
}
