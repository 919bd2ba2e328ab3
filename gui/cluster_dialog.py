"""The Dask cluster's row of the run settings (shown with the "Dask cluster" backend) and its "Test
connection" dialog.

    Cluster  [ this computer / tcp://server:8786 ]
             [Test connection…]
             [x] Shared storage

The address field left empty means "this computer" (a LocalCluster of one worker process per core, on
127.0.0.1); otherwise it is a scheduler's address (`dask scheduler`, see the README's "Running on several
machines"). The dialog connects on a background thread (a scheduler that does not answer takes up to
CONNECT_SECONDS) and lists the workers with their cores and memory, and the scheduler's dashboard, opened
in the browser.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from xlbatch.gui.formatting import format_size

THIS_COMPUTER = "local"
SHARED_TIP = (
    "Every machine of the cluster sees your files and the output folder at the same paths (for example a "
    "network share). Then only the paths are sent; otherwise each file travels to its worker and the "
    "outputs come back to this computer."
)


class ClusterRow(QWidget):
    """The address field, the Test connection button and the shared-storage box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.address_edit = QLineEdit(self)
        self.address_edit.setObjectName("clusterEdit")
        self.address_edit.setAccessibleName("Dask cluster")
        self.address_edit.setPlaceholderText("this computer (or tcp://server:8786)")
        self.address_edit.setToolTip(
            "Empty: Dask workers on this computer, one per core. Otherwise the address of the scheduler your "
            "team started with `dask scheduler`, such as tcp://192.168.1.20:8786."
        )
        self.test_button = QPushButton("Test connection…", self)
        self.test_button.setObjectName("testClusterButton")
        self.test_button.setToolTip("Connect to the cluster and list its workers")
        self.test_button.clicked.connect(self.test_connection)
        self.shared_check = QCheckBox("Shared storage", self)
        self.shared_check.setObjectName("sharedStorageCheck")
        self.shared_check.setToolTip(SHARED_TIP)
        # One below the other: the run settings' column is narrow.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.address_edit)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.shared_check)

    def address(self) -> str | None:
        """What the user typed; None: nothing (the settings file's cluster, else this computer)."""
        return self.address_edit.text().strip() or None

    def set_cluster(self, address: str | None, shared: bool | None) -> None:
        self.address_edit.setText("" if address in (None, THIS_COMPUTER) else str(address))
        if shared is not None:
            self.shared_check.setChecked(shared)

    def show_settings_default(self, address: str | None) -> None:
        """The settings file's cluster is what an empty field means."""
        if address and address != THIS_COMPUTER:
            self.address_edit.setPlaceholderText(f"{address} (from your settings file)")

    def test_connection(self) -> None:
        ClusterDialog(self.address() or self._settings_address() or THIS_COMPUTER, self).exec()

    def _settings_address(self) -> str | None:
        text = self.address_edit.placeholderText()
        return text.split(" ", 1)[0] if text.endswith("(from your settings file)") else None


class _Reply(QObject):
    """Carries the background connection's answer to the dialog's thread."""

    connected = Signal(object)
    refused = Signal(str)


def _connect(address: str, reply: _Reply) -> None:
    """On a background thread: connect to the cluster and answer through `reply`."""
    from xlbatch.executors.dask_cluster import ClusterError, connect

    try:
        handle = connect(address)
        reply.connected.emit((handle.describe(), handle.workers(), handle.dashboard_link()))
    except ClusterError as exc:
        reply.refused.emit(str(exc))
    except Exception as exc:  # noqa: BLE001 - whatever Dask raised, said in the dialog
        reply.refused.emit(f"{type(exc).__name__}: {exc}")


class ClusterDialog(QDialog):
    """Connects to a cluster and shows its workers, their cores and memory, and its dashboard."""

    def __init__(self, address: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clusterDialog")
        self.setWindowTitle("Dask cluster")
        self.address = address
        self.dashboard: str | None = None
        where = "this computer" if address.startswith(THIS_COMPUTER) else address
        self.status = QLabel(f"Connecting to {where}…", self)
        self.status.setObjectName("clusterStatus")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("clusterWorkers")
        self.table.setHorizontalHeaderLabels(["Worker", "Computer", "Cores", "Memory"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.dashboard_button = QPushButton("Open dashboard", self)
        self.dashboard_button.setObjectName("openDashboardButton")
        self.dashboard_button.setEnabled(False)
        self.dashboard_button.setToolTip("The scheduler runs no dashboard (it needs the bokeh package there)")
        self.dashboard_button.clicked.connect(self.open_dashboard)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.dashboard_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(620, 320)
        # No Qt parent: the connection may outlive a dialog closed at once, and the thread keeps the
        # reply alive until it has answered. Closing the dialog disconnects it, so a late answer goes
        # nowhere instead of to a deleted object.
        self._reply = _Reply()
        self._reply.connected.connect(self.show_cluster)
        self._reply.refused.connect(self.show_problem)
        reply = self._reply
        threading.Thread(target=_connect, args=(address, reply), name="xlbatch-cluster-test", daemon=True).start()

    def show_cluster(self, found: tuple[str, list[Any], str | None]) -> None:
        described, workers, dashboard = found
        self.status.setText(f"Connected: {described}.")
        self.table.setRowCount(len(workers))
        for row, worker in enumerate(workers):
            memory = format_size(worker.memory_limit) if worker.memory_limit else "no limit"
            for column, text in enumerate((worker.address, worker.host, str(worker.threads), memory)):
                item = QTableWidgetItem(text)
                if column >= 2:
                    item.setTextAlignment(int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter))
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.dashboard = dashboard
        self.dashboard_button.setEnabled(dashboard is not None)
        if dashboard:
            self.dashboard_button.setToolTip(dashboard)

    def show_problem(self, message: str) -> None:
        self.status.setText(message)
        self.status.setProperty("invalid", True)

    def open_dashboard(self) -> None:
        if self.dashboard:
            QDesktopServices.openUrl(QUrl(self.dashboard))
