/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VHX_DEBUGFS_H
#define _VHX_DEBUGFS_H

void vhx_debugfs_init(void);
void vhx_debugfs_exit(void);

#endif /* _VHX_DEBUGFS_H */
