# utilities/: set-up, sandbox and command-line tools.
EXTRA_DIST += \
	utilities/ovs-ext-setup \
	utilities/ovs-ext-build \
	utilities/ovs-ext-check \
	utilities/ovs-ext-sandbox
