; Inno Setup 6 script: the Windows installer for posapp, from the PyInstaller bundle.
;
;   make dist          (on Windows: pyinstaller --noconfirm installers\posapp.spec)
;   iscc /DAppVersion=0.1.0 installers\windows\posapp.iss   -> dist\posapp-0.1.0-setup.exe
;
; Per-machine install into Program Files; Start-menu and optional desktop shortcuts;
; optional start with Windows (all users). The counter's data (database, backups, logs,
; settings) lives in each user's %LOCALAPPDATA%\posapp, never under {app}: an upgrade
; replaces the program and leaves the data alone, and on the next start the app backs the
; database up and migrates it. Uninstalling keeps the data unless the user asks otherwise.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=<posapp.__version__> posapp.iss
#endif
#define AppName "posapp"
#define AppExe "posapp.exe"
#define Bundle "..\..\dist\posapp"

[Setup]
; The AppId ties every version together: never change it, or upgrades install side by side.
AppId={{6F0E4C1B-5D0A-4C8E-9B7E-2F6A9E3D51C7}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=posapp
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=posapp-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\posapp.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/ultra64
SolidCompression=yes
WizardStyle=modern
; Upgrade in place: same folder, running copies closed first (Restart Manager), then restarted.
UsePreviousAppDir=yes
UsePreviousTasks=yes
CloseApplications=force
RestartApplications=yes
MinVersion=10.0

[Languages]
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
Name: "english"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
english.AutoStart=Start posapp when Windows starts
chinesesimplified.AutoStart=开机时自动启动 posapp
english.DeleteData=Also delete this computer's posapp data (members, unsynced sales, backups, logs) in %1?%n%nChoose No to keep it for a later reinstall.
chinesesimplified.DeleteData=是否同时删除本机的 posapp 数据（会员、未同步的销售、备份、日志），位置：%1？%n%n选择“否”将保留数据，以便日后重新安装。

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"
Name: "autostart"; Description: "{cm:AutoStart}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder bundle. Files a new version no longer ships are removed first.
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; IconFilename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon
Name: "{commonstartup}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: autostart

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the program itself wrote under {app}; the data folder is handled below.
Type: filesandordirs; Name: "{app}\_internal"

[Code]
// The data folder of the user running the uninstaller (platformdirs' user_data_dir).
function DataDir(): String;
begin
  Result := ExpandConstant('{localappdata}\posapp');
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  // Silent uninstalls (and upgrades, which never uninstall) always keep the data.
  if (CurUninstallStep = usPostUninstall) and (not UninstallSilent) and DirExists(DataDir()) then
  begin
    if MsgBox(FmtMessage(CustomMessage('DeleteData'), [DataDir()]),
              mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
      DelTree(DataDir(), True, True, True);
  end;
end;
