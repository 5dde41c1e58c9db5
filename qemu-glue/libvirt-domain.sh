# shellcheck shell=sh
# libvirt-domain.sh, sourced: the domain XML of the libvirt end-to-end runs.
#
# libvirt_domain NAME DIR TAP QUEUES VHOST: print a KVM domain
# that boots DIR/vmlinuz with DIR/initrd (console on DIR/console.log, the
# 9p share DIR/share with tag "share") and has one virtio NIC on a
# libvirt-made multiqueue tap TAP with QUEUES queue pairs, each served by
# an fd of VHOST that libvirt opens itself: the one line a user adds is
# <backend vhost='VHOST'/>.
libvirt_domain() {
	cat <<EOF
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>1024</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$2/vmlinuz</kernel>
    <initrd>$2/initrd</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <cpu mode='host-passthrough'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='file'>
      <source path='$2/console.log'/>
      <target port='0'/>
    </serial>
    <filesystem type='mount' accessmode='squash' multidevs='remap'>
      <source dir='$2/share'/>
      <target dir='share'/>
    </filesystem>
    <interface type='ethernet'>
      <mac address='02:00:00:00:77:02'/>
      <target dev='$3'/>
      <model type='virtio'/>
      <driver name='vhost' queues='$4'/>
      <backend vhost='$5'/>
    </interface>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}
