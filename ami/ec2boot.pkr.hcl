# Bakes EBS-backed AMIs with ec2boot installed and enabled, one for x86_64
# and one for arm64, from the packages `make package` builds in ../dist.
# Needs Packer 1.9 or later and the Amazon plugin (`packer init .` installs
# it); validate offline with
#
#   packer validate -var version=<version> ec2boot.pkr.hcl
#
# Build (credentials from the usual AWS environment or profile):
#
#   packer build -var version=<version> ec2boot.pkr.hcl
#   packer build -var version=<version> -only='*.amd64' ec2boot.pkr.hcl   # one architecture
#
# See docs/ami.md.

packer {
  required_version = ">= 1.9.0"
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.8.0"
    }
  }
}

variable "version" {
  type        = string
  description = "The package version: the images get ../dist/ec2boot_<version>-1_<arch>.deb."
}

variable "dist" {
  type        = string
  description = "Where the packages are."
  default     = "../dist"
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "instance_type" {
  type        = string
  description = "x86_64 build instance type. One with an instance store (m5d, c5d, ...) lets the build see ephemeral0 as the fleet will."
  default     = "m5d.large"
}

variable "arm64_instance_type" {
  type        = string
  description = "arm64 (Graviton) build instance type, with an instance store likewise (m6gd, c6gd, ...)."
  default     = "m6gd.large"
}

variable "config" {
  type        = string
  description = "Site configuration baked in as /etc/ec2boot/config.toml (checked with ec2boot validate)."
  default     = "../packaging/config.toml"
}

variable "ami_prefix" {
  type    = string
  default = "ec2boot-debian-12"
}

# What both architectures share; the build block below names each one and
# gives it its instance type and base image.
source "amazon-ebs" "debian" {
  region       = var.region
  ssh_username = "admin"

  # The build instance answers metadata requests only with a session token
  # (IMDSv2), as the fleet's instances will.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  # The image is registered IMDSv2-only: every instance launched from it
  # requires session tokens, whatever its launch template says.
  imds_support = "v2.0"

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 8
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    delete_on_termination = true
  }

  # The instance store, for build instance types that have one.
  launch_block_device_mappings {
    device_name  = "/dev/sdb"
    virtual_name = "ephemeral0"
  }

  # Recorded in the image, so instances of older (Xen) types get their
  # instance store mapped too; Nitro types attach it as NVMe regardless.
  ami_block_device_mappings {
    device_name  = "/dev/sdb"
    virtual_name = "ephemeral0"
  }
}

build {
  # Debian's own images (account 136693071363).
  source "source.amazon-ebs.debian" {
    name          = "amd64"
    instance_type = var.instance_type
    ami_name      = "${var.ami_prefix}-amd64-{{timestamp}}"
    source_ami_filter {
      filters = {
        name                = "debian-12-amd64-*"
        architecture        = "x86_64"
        root-device-type    = "ebs"
        virtualization-type = "hvm"
      }
      owners      = ["136693071363"]
      most_recent = true
    }
    tags = {
      Name         = var.ami_prefix
      Architecture = "x86_64"
      BuiltWith    = "packer"
    }
  }

  source "source.amazon-ebs.debian" {
    name          = "arm64"
    instance_type = var.arm64_instance_type
    ami_name      = "${var.ami_prefix}-arm64-{{timestamp}}"
    source_ami_filter {
      filters = {
        name                = "debian-12-arm64-*"
        architecture        = "arm64"
        root-device-type    = "ebs"
        virtualization-type = "hvm"
      }
      owners      = ["136693071363"]
      most_recent = true
    }
    tags = {
      Name         = var.ami_prefix
      Architecture = "arm64"
      BuiltWith    = "packer"
    }
  }

  # First: let cloud-init finish its first boot (apt sources, the build's
  # key, its mounts) before anything is installed. Exit 2 is a recoverable
  # error that cloud-init reported and carried on from.
  provisioner "shell" {
    inline = ["sudo cloud-init status --wait || [ $? -eq 2 ]"]
  }

  provisioner "file" {
    source      = "${var.dist}/ec2boot_${var.version}-1_${source.name}.deb"
    destination = "/tmp/ec2boot.deb"
  }

  provisioner "file" {
    source      = var.config
    destination = "/tmp/ec2boot-config.toml"
  }

  provisioner "shell" {
    execute_command = "sudo sh -eu '{{.Path}}'"
    script          = "provision.sh"
  }

  # Last: nothing may run after prepare-image, or it could write state again.
  provisioner "shell" {
    execute_command = "sudo sh -eu '{{.Path}}'"
    script          = "finalize.sh"
  }
}
