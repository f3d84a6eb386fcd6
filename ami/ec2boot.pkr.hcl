# Bakes an EBS-backed AMI with ec2boot installed and enabled. Written for the
# amazon-ebs builder built into Packer 1.6 (no required_plugins, no `packer
# init`); validate offline with
#
#   packer validate -var package=../dist/ec2boot_<version>_amd64.deb ec2boot.pkr.hcl
#
# Build (credentials from the usual AWS environment or profile):
#
#   packer build -var package=../dist/ec2boot_<version>_amd64.deb ec2boot.pkr.hcl
#
# See docs/ami.md.

packer {
  required_version = ">= 1.6.0"
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "instance_type" {
  type        = string
  description = "Build instance type. One with an instance store (m5d, c5d, ...) lets the build see ephemeral0 as the fleet will."
  default     = "m5d.large"
}

variable "package" {
  type        = string
  description = "The ec2boot .deb built by `make package`."
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

source "amazon-ebs" "debian" {
  region        = var.region
  instance_type = var.instance_type
  ssh_username  = "admin"
  ami_name      = "${var.ami_prefix}-{{timestamp}}"

  # Debian's own images (account 136693071363).
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

  tags = {
    Name      = "${var.ami_prefix}"
    BuiltWith = "packer"
  }
}

build {
  sources = ["source.amazon-ebs.debian"]

  provisioner "file" {
    source      = var.package
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

  # Register the image as IMDSv2-only: every instance launched from it then
  # requires session tokens, whatever its launch template says. Packer 1.6
  # has no setting for this (nor metadata_options for the build instance),
  # so the AWS CLI does it with the AMI id from the manifest.
  post-processors {
    post-processor "manifest" {
      output     = "packer-manifest.json"
      strip_path = true
    }
    post-processor "shell-local" {
      environment_vars = ["AWS_REGION=${var.region}"]
      script           = "require-imdsv2.sh"
    }
  }
}
