/**
 * The {@code fernet} command: {@code keygen}, {@code encrypt}, {@code decrypt}, {@code psk}, {@code tunnel} and
 * {@code demo}, built on the FernetJCA provider and socket factories. Only {@link dev.fernetjca.cli.Main} is public;
 * see {@code docs/cli.md} for the user's view.
 *
 * <p>Arguments and return values are non-null unless a member says otherwise.
 */
package dev.fernetjca.cli;
