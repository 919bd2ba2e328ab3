; Inno Setup 6 script of xlbatch: a per-user installer of the one-folder build (no administrator rights).
;
; Build the folder first, then compile this script with the version from pyproject.toml:
;   pyinstaller --noconfirm build.spec                                  -> dist\xlbatch\ (xlbatch.exe, xlbatch-cli.exe)
;   iscc /DAppVersion=0.1.0 packaging\windows\xlbatch.iss               -> dist\installer\xlbatch-0.1.0-setup.exe
; /DDistDir=... points at another build folder (relative paths are relative to this file's folder).
;
; What it does:
; - installs for the current user only, into %LOCALAPPDATA%\Programs\xlbatch ({autopf} in non
;   administrative install mode), without a UAC prompt (PrivilegesRequired=lowest, no override);
; - adds a Start-menu shortcut (and a desktop one if ticked); no file associations, no PATH change;
; - an upgrade first removes the previous version's program files, so versions never mix;
; - uninstalling removes the program files, the shortcuts and what the app saved for itself (the window
;   layout and last choices in HKCU\Software\xlbatch\xlbatch, the kept file list in
;   %LOCALAPPDATA%\xlbatch\xlbatch); the user's settings file (%LOCALAPPDATA%\xlbatch\settings.yaml),
;   workbooks and output folders are never touched.
;
; CI compiles it under Wine with ISCC.exe from the npm registry's innosetup package and installs, runs
; and uninstalls the result: packaging/ci/check_installer.py.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef DistDir
  #define DistDir "..\..\dist\xlbatch"
#endif
; The folder the program folder goes in. {autopf} is the user's Programs folder in a per-user install.
; Under Wine 8 (CI) {autopf} cannot be expanded: its SHGetKnownFolderPath knows only the folders that have
; a CSIDL, and FOLDERID_UserProgramFiles has none. CI passes /DInstallRoot={localappdata}\Programs, the
; same folder on Windows.
#ifndef InstallRoot
  #define InstallRoot "{autopf}"
#endif
#define AppName "xlbatch"
#define AppExe "xlbatch.exe"

[Setup]
; AppId identifies the installation for upgrades and uninstall: never change it ("{{" is a literal brace).
AppId={{8BB07C3B-C7F4-467A-829A-85ADE98FB1F4}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=xlbatch contributors
AppComments=Batch runner for Excel workbooks
VersionInfoVersion={#AppVersion}
VersionInfoDescription={#AppName} setup
; Per user, never elevated: {autopf} is then the user's own Programs folder and {autoprograms} the
; user's Start menu. Leaving out PrivilegesRequiredOverridesAllowed keeps it from offering an all-users install.
PrivilegesRequired=lowest
DefaultDirName={#InstallRoot}\{#AppName}
DisableProgramGroupPage=yes
; The programs are 64-bit (x64); Qt 6 needs Windows 10 1809 or later.
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0.17763
ChangesAssociations=no
ChangesEnvironment=no
; Close a running xlbatch (Restart Manager) before replacing or removing its files.
CloseApplications=yes
SetupIconFile=..\..\resources\icons\xlbatch.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
OutputDir=..\..\dist\installer
OutputBaseFilename={#AppName}-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; The previous version's bundled libraries: an upgrade must not run new programs on old libraries.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
; The whole one-folder build: xlbatch.exe (the app), xlbatch-cli.exe (for scripts and scheduled jobs), _internal\.
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Run one task over many Excel workbooks"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; Created empty here so that uninstalling removes what the app saves there (window layout, last
; choices: QSettings, organisation "xlbatch", application "xlbatch").
Root: HKCU; Subkey: "Software\xlbatch"; Flags: uninsdeletekeyifempty
Root: HKCU; Subkey: "Software\xlbatch\xlbatch"; Flags: uninsdeletekey

[UninstallDelete]
; The file list the app keeps for its next start (xlbatch.gui.last_batch); the settings file one folder up stays.
Type: filesandordirs; Name: "{localappdata}\xlbatch\xlbatch"

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
