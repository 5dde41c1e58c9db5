#!/bin/sh
# module_load_test.sh: vhost_mq.ko loads and unloads cleanly, its device
# node comes and goes with it, an open fd pins it, and it carries the
# metadata a reviewer expects. Runs in the rig VM (the module is loaded).
set -u
# the module the rig loaded (make check-debug: the debug kernel's build)
ko=${VMQ_KO:-vhost/vhost_mq.ko}
n=0
failed=0

check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=1
	fi
}

echo "TAP version 13"
echo "1..9"
echo "<6>rig: test module_load" >/dev/kmsg

test -c /dev/vhost-mq
check $? "device_node_exists_while_loaded"

major=$(stat -c %t /dev/vhost-mq)
[ "$major" = a ]	# misc devices have major 10
check $? "device_is_a_misc_device_with_dynamic_minor"

exec 3</dev/vhost-mq
rmmod vhost_mq 2>/dev/null
[ $? != 0 ] && test -c /dev/vhost-mq
check $? "rmmod_is_refused_while_an_fd_is_open"
exec 3<&-

rmmod vhost_mq
check $? "rmmod_succeeds_with_no_users"

! test -e /dev/vhost-mq && ! grep -q '^vhost_mq ' /proc/modules
check $? "device_node_and_module_gone_after_rmmod"

insmod "$ko"
check $? "insmod_again_succeeds"

test -c /dev/vhost-mq
check $? "device_node_back_after_insmod"

for field in license description author version; do
	[ -n "$(modinfo -F "$field" "$ko")" ] || exit_field=$field
done
[ -z "${exit_field:-}" ]
check $? "modinfo_has_license_description_author_version"

[ "$(modinfo -F license "$ko")" = GPL ]
check $? "license_is_gpl_for_the_gpl_only_symbols_it_uses"

exit $failed
