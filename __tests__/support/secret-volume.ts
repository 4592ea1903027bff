// A folder updated the way the kubelet updates a mounted secret (its atomic
// writer): each file is a symlink into `..data`, `..data` a symlink to a
// versioned folder, and an update writes a new folder and renames a new
// `..data` link over the old one. A reader sees the old set of files or the
// new set, never a mix: a certificate never meets another certificate's key.
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export class SecretVolume {
  private version = 0;

  /** Turns the named files of `dir` (regular files) into a secret volume with their current content. */
  constructor(
    readonly dir: string,
    readonly names: readonly string[],
  ) {
    const current = Object.fromEntries(names.map((n) => [n, readFileSync(join(dir, n))]));
    this.writeVersion(current);
    for (const name of names) {
      rmSync(join(dir, name));
      symlinkSync(join("..data", name), join(dir, name));
    }
  }

  /** Replaces the content of every file at once (a file left out keeps its content). */
  publish(files: Readonly<Record<string, string | Buffer>>): void {
    const next = Object.fromEntries(this.names.map((n) => [n, files[n] ?? readFileSync(join(this.dir, n))]));
    this.writeVersion(next);
  }

  private writeVersion(files: Record<string, string | Buffer>): void {
    const folder = `..v${++this.version}`;
    mkdirSync(join(this.dir, folder));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(this.dir, folder, name), content, { mode: 0o440 });
    symlinkSync(folder, join(this.dir, "..data_tmp"));
    renameSync(join(this.dir, "..data_tmp"), join(this.dir, "..data"));
  }
}
