/**
 * Private: the test harness's lab — the library's throw-away lab (`lib/lab/lab.ts`) whose
 * namespaces can capture packets ({@linkcode Namespace.capture}).
 *
 * @module
 */

import { Lab as ThrowAwayLab, type LabOptions } from "../../lib/lab/lab.ts";
import type { NamespaceOptions } from "../../lib/lab/network.ts";
import { Namespace } from "./_namespace.ts";

/** A throw-away lab whose namespaces are the test {@linkcode Namespace} (with `capture`). */
export class Lab extends ThrowAwayLab {
  /**
   * Create an empty lab, as the library's `Lab.create` does.
   *
   * @param options Scratch-file handling, namespace prefix.
   * @returns The lab.
   */
  static override create(options: LabOptions = {}): Promise<Lab> {
    return ThrowAwayLab.open(options, (prefix) => new Lab(prefix, options));
  }

  /** The namespaces created so far, in creation order. */
  declare readonly namespaces: Namespace[];

  /**
   * Create a namespace (see the library's `LabNetwork.addNamespace`).
   *
   * @param label Short name, unique in this lab.
   * @param options Router mode, sysctls.
   * @returns The namespace.
   */
  override async addNamespace(label: string, options: NamespaceOptions = {}): Promise<Namespace> {
    return await super.addNamespace(label, options) as Namespace;
  }

  /**
   * Create a router namespace (see the library's `LabNetwork.addRouter`).
   *
   * @param label Short name.
   * @param options Extra sysctls.
   * @returns The namespace.
   */
  override async addRouter(
    label: string,
    options: Omit<NamespaceOptions, "router"> = {},
  ): Promise<Namespace> {
    return await super.addRouter(label, options) as Namespace;
  }

  protected override newNamespace(label: string, name: string): Namespace {
    return new Namespace(this, label, name);
  }
}
