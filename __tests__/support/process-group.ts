// Servers started under a shell (the Vault container's command) run in a
// process group of their own: killing the group reaches the server and
// whatever the shell started beside it.

/** SIGKILL to every process of the group `pid` leads; nothing when it is gone. */
export function killProcessGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is gone already
  }
}
