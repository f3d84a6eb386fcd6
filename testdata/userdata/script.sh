#!/bin/sh
echo "hello from user-data" > /var/tmp/hello
